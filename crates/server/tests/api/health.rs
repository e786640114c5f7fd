use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_ready_answer_json() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let checks = body["checks"].as_object().unwrap();
    assert!(!checks.is_empty());
    assert!(checks.values().all(|status| status == "ok"), "{body}");
    let expected: &[&str] = match crate::BACKEND {
        crate::helpers::Backend::Memory => &["storage"],
        crate::helpers::Backend::Real | crate::helpers::Backend::Scaled => &["database", "redis"],
    };
    for name in expected {
        assert_eq!(checks[*name], "ok", "{body}");
    }
}

#[tokio::test]
async fn probes_answer_head_requests_for_load_balancers() {
    let app = spawn_app().await;
    for path in ["/health", "/ready", "/auth/keys"] {
        let response = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
}
