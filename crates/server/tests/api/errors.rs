use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app, unique_email};

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    for body in ["{", "not json", "{\"email\": }", ""] {
        let response = app
            .client
            .post(app.url("/auth/send-otp"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status == StatusCode::BAD_REQUEST, "{body:?} gave {status}");
        assert_problem(response, StatusCode::BAD_REQUEST, "validation_failed").await;
    }
}

#[tokio::test]
async fn wrong_shapes_are_a_422_naming_the_problem() {
    let app = spawn_app().await;
    let cases = [
        ("/auth/send-otp", json!({})),
        ("/auth/send-otp", json!({ "email": 42 })),
        ("/auth/send-otp", json!({ "email": "nope" })),
        ("/auth/send-otp", json!({ "email": "a@b.co", "extra": true })),
        ("/auth/verify-otp", json!({ "email": "a@b.co" })),
        ("/auth/verify-otp", json!({ "email": "a@b.co", "code": "12345" })),
        ("/auth/verify-otp", json!({ "email": "a@b.co", "code": "abcdef" })),
        ("/auth/login", json!({ "email": "a@b.co", "password": null })),
        ("/auth/refresh", json!({ "refresh": "x" })),
        ("/auth/password/reset", json!({ "email": "a@b.co", "code": "123456" })),
    ];
    for (path, body) in cases {
        let response = app.post(path, &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(problem["detail"].as_str().unwrap().len() > 10, "{path} {body}: {problem}");
    }
}

#[tokio::test]
async fn secrets_of_the_wrong_type_are_refused_without_being_echoed() {
    let app = spawn_app().await;
    let response = app.post("/auth/verify-otp", &json!({ "email": "a@b.co", "code": 987_654 })).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(!problem.to_string().contains("987654"), "{problem}");
    let response =
        app.post("/auth/login", &json!({ "email": "a@b.co", "password": 12_345_678_901u64 })).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(!problem.to_string().contains("12345678901"), "{problem}");
    let response = app.post("/auth/refresh", &json!({ "refresh_token": ["secret-part"] })).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(!problem.to_string().contains("secret-part"), "{problem}");
}

#[tokio::test]
async fn oversized_bodies_are_a_413() {
    let app = spawn_app().await;
    let body = json!({ "email": unique_email(), "password": "x".repeat(20_000) });
    assert_problem(app.post("/auth/login", &body).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        .await;
}

#[tokio::test]
async fn non_json_bodies_are_a_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/send-otp"))
        .header("content-type", "text/plain")
        .body("email=a@b.co")
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problem_answers() {
    let app = spawn_app().await;
    let missing = app.client.get(app.url("/auth/nothing-here")).send().await.unwrap();
    assert_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = app.client.get(app.url("/auth/send-otp")).send().await.unwrap();
    assert_problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    let wrong_method = app.client.put(app.url("/api/auth/me")).send().await.unwrap();
    assert_problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = spawn_app().await;
    let response = app.send_otp(&unique_email()).await;
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert!(response.headers().get("strict-transport-security").is_none(), "not over plain http");
}

#[tokio::test]
async fn an_https_public_or_frontend_url_turns_on_hsts() {
    for configure in [
        (|settings: &mut otp_server::Settings| settings.public_url = Some("https://auth.example".into()))
            as fn(&mut otp_server::Settings),
        |settings| settings.frontend_url = Some("https://app.example".into()),
    ] {
        let app = crate::helpers::spawn_app_with(configure).await;
        for response in
            [app.send_otp(&unique_email()).await, app.get("/health").await, app.get("/nowhere").await]
        {
            assert_eq!(
                response.headers()["strict-transport-security"],
                "max-age=31536000; includeSubDomains"
            );
        }
    }
}

#[tokio::test]
async fn cross_origin_calls_are_allowed_only_from_configured_origins() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.cors_allowed_origins = "https://app.example".into();
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/auth/send-otp"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example");
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}
