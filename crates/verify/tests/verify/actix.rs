//! The actix-web extractor and middleware, over real HTTP.

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use otp_verify::Verifier;
use otp_verify::actix::{VerifiedUser, VerifyTokens};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Issuer, dead_port, tampered};

async fn me(user: VerifiedUser) -> HttpResponse {
    HttpResponse::Ok().json(&user.0)
}

async fn orders(user: VerifiedUser) -> String {
    format!("orders of {}", user.subject)
}

/// A server with `/me` (extractor, verifier as the resource's app data), `/api/orders`
/// (behind the middleware) and `/unconfigured` (extractor without a verifier).
fn start(verifier: Verifier) -> (String, ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .service(web::scope("/unconfigured").route("", web::get().to(me)))
            .service(
                web::scope("/api")
                    .wrap(VerifyTokens::new(verifier.clone()))
                    .route("/orders", web::get().to(orders)),
            )
            .service(web::resource("/me").app_data(verifier.clone()).route(web::get().to(me)))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (base, handle)
}

async fn get(url: String, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(url);
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

/// Checks a refusal's status, headers and problem body; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let header = |name| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    assert_eq!(header("content-type").as_deref(), Some("application/problem+json"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    let challenge = header("www-authenticate");
    let retry_after = header("retry-after");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code);
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("urn:otp-auth:problem:{code}"));
    match status {
        StatusCode::UNAUTHORIZED => assert!(challenge.unwrap().starts_with("Bearer")),
        StatusCode::SERVICE_UNAVAILABLE => assert_eq!(retry_after.as_deref(), Some("5")),
        _ => {}
    }
    body
}

#[actix_web::test]
async fn the_extractor_admits_valid_tokens_and_answers_others_with_problems() {
    let issuer = Issuer::new();
    let (base, server) = start(issuer.fixed_verifier());
    let token = issuer.token();
    let response = get(format!("{base}/me"), Some(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let claims: Value = response.json().await.unwrap();
    assert_eq!(claims["sub"], issuer.claims_of(&token).user_id.as_uuid().to_string());

    let missing = get(format!("{base}/me"), None).await;
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    assert_problem(missing, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let forged = get(format!("{base}/me"), Some(&tampered(&token))).await;
    assert_eq!(forged.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
    let body = assert_problem(forged, StatusCode::UNAUTHORIZED, "token_invalid").await;
    assert_eq!(body["detail"], "access token is invalid");
    let expired = issuer.token_at(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
    let body = assert_problem(
        get(format!("{base}/me"), Some(&expired)).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;
    assert_eq!(body["detail"], "access token has expired");
    server.stop(true).await;
}

#[actix_web::test]
async fn the_middleware_guards_a_scope_and_hands_the_claims_on() {
    let issuer = Issuer::new();
    let (base, server) = start(issuer.fixed_verifier());
    let token = issuer.token();
    let response = get(format!("{base}/api/orders"), Some(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user = issuer.claims_of(&token).user_id.as_uuid();
    assert_eq!(response.text().await.unwrap(), format!("orders of {user}"));
    assert_problem(get(format!("{base}/api/orders"), None).await, StatusCode::UNAUTHORIZED, "token_invalid")
        .await;
    let stranger = Issuer::new().token();
    assert_problem(
        get(format!("{base}/api/orders"), Some(&stranger)).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;
    server.stop(true).await;
}

#[actix_web::test]
async fn an_unreachable_auth_server_is_503_and_a_missing_verifier_500() {
    let keys_url = format!("http://127.0.0.1:{}/auth/keys", dead_port());
    let (base, server) = start(Verifier::builder().keys_url(keys_url).build().unwrap());
    let token = Issuer::new().token();
    assert_problem(
        get(format!("{base}/me"), Some(&token)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    assert_problem(
        get(format!("{base}/api/orders"), Some(&token)).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
    )
    .await;
    let unconfigured = get(format!("{base}/unconfigured"), Some(&token)).await;
    assert_problem(unconfigured, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    server.stop(true).await;
}
