//! The axum extractor and tower layer, over real HTTP.

use axum::routing::get as route_get;
use axum::{Extension, Json, Router};
use otp_verify::axum::{VerifiedUser, VerifyTokensLayer};
use otp_verify::{Claims, Verifier};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::actix::assert_problem;
use crate::support::{Issuer, dead_port, tampered};

async fn me(user: VerifiedUser) -> Json<Claims> {
    Json(user.0)
}

async fn greeting(user: Option<VerifiedUser>) -> String {
    user.map_or_else(|| "hello, stranger".to_owned(), |user| format!("hello, {}", user.subject))
}

struct Running {
    base: String,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `/layered` behind the layer; `/me` and `/greeting` through the extension;
/// `/unconfigured` with neither.
async fn start(verifier: Verifier) -> Running {
    let unconfigured = Router::new().route("/unconfigured", route_get(me));
    let app = Router::new()
        .route("/layered", route_get(me))
        .layer(VerifyTokensLayer::new(verifier.clone()))
        .route("/me", route_get(me))
        .route("/greeting", route_get(greeting))
        .layer(Extension(verifier))
        .merge(unconfigured);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Running { base, task }
}

async fn get(url: String, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(url);
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn the_layer_and_the_extractor_admit_valid_tokens_only() {
    let issuer = Issuer::new();
    let server = start(issuer.fixed_verifier()).await;
    let token = issuer.token();
    let user = issuer.claims_of(&token).user_id.as_uuid().to_string();
    for route in ["layered", "me"] {
        let response = get(format!("{}/{route}", server.base), Some(&token)).await;
        assert_eq!(response.status(), StatusCode::OK, "{route}");
        assert_eq!(response.json::<Value>().await.unwrap()["sub"], user);
        assert_problem(
            get(format!("{}/{route}", server.base), None).await,
            StatusCode::UNAUTHORIZED,
            "token_invalid",
        )
        .await;
        let forged = get(format!("{}/{route}", server.base), Some(&tampered(&token))).await;
        assert_eq!(forged.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
        assert_problem(forged, StatusCode::UNAUTHORIZED, "token_invalid").await;
    }
    let expired = issuer.token_at(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
    let body = assert_problem(
        get(format!("{}/me", server.base), Some(&expired)).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;
    assert_eq!(body["detail"], "access token has expired");
}

#[tokio::test]
async fn an_optional_user_is_none_only_without_a_token() {
    let issuer = Issuer::new();
    let server = start(issuer.fixed_verifier()).await;
    let anonymous = get(format!("{}/greeting", server.base), None).await;
    assert_eq!(anonymous.text().await.unwrap(), "hello, stranger");
    let token = issuer.token();
    let signed_in = get(format!("{}/greeting", server.base), Some(&token)).await;
    let user = issuer.claims_of(&token).user_id.as_uuid();
    assert_eq!(signed_in.text().await.unwrap(), format!("hello, {user}"));
    let forged = get(format!("{}/greeting", server.base), Some(&tampered(&token))).await;
    assert_problem(forged, StatusCode::UNAUTHORIZED, "token_invalid").await;
}

#[tokio::test]
async fn an_unreachable_auth_server_is_503_and_a_missing_verifier_500() {
    let keys_url = format!("http://127.0.0.1:{}/auth/keys", dead_port());
    let server = start(Verifier::builder().keys_url(keys_url).build().unwrap()).await;
    let token = Issuer::new().token();
    for route in ["layered", "me"] {
        let response = get(format!("{}/{route}", server.base), Some(&token)).await;
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    }
    let unconfigured = get(format!("{}/unconfigured", server.base), Some(&token)).await;
    assert_problem(unconfigured, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
}
