//! `POST /auth/introspect` (RFC 7662), as otp-verify's liveness check calls it.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, claims_of, spawn_app_with, token, unique_email};

const BILLING: &str = "svc-billing-2f9c1a7e4b3d8e6f0a1b2c3d4e5f6a7b";
const REPORTS: &str = "svc-reports-8d7c6b5a4e3f2a1b0c9d8e7f6a5b4c3d";

async fn spawn() -> TestApp {
    spawn_app_with(|settings| settings.introspection_tokens = Some(format!("{BILLING}, {REPORTS}").into()))
        .await
}

async fn introspect_at(app: &TestApp, path: &str, credential: Option<&str>, body: &str) -> Response {
    let request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.to_owned());
    match credential {
        Some(credential) => request.bearer_auth(credential),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

/// What otp-verify sends.
async fn introspect(app: &TestApp, credential: &str, access_token: &str) -> Response {
    let body = format!("token={access_token}&token_type_hint=access_token");
    introspect_at(app, "/auth/introspect", Some(credential), &body).await
}

async fn answer(response: Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_live_token_is_active_with_its_claims_and_inactive_after_logout() {
    let app = spawn().await;
    let address = unique_email();
    let tokens = app.sign_in(&address).await;
    let access = token(&tokens, "access_token");
    let signed = claims_of(&access);
    let live = answer(introspect(&app, BILLING, &access).await).await;
    assert_eq!(live["active"], true);
    for claim in ["sub", "sid", "jti", "iss", "aud", "email", "email_verified", "amr"] {
        assert_eq!(live[claim], signed[claim], "{claim}");
    }
    assert_eq!(live["token_type"], "access_token");
    let exp = time::OffsetDateTime::parse(
        signed["exp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(live["exp"], exp.unix_timestamp());
    assert_eq!(live["exp"].as_i64().unwrap() - live["iat"].as_i64().unwrap(), 1800);
    assert!(live.get("role").is_none());

    assert_eq!(app.post_with_token("/auth/logout", &access).await.status(), StatusCode::OK);
    assert_eq!(answer(introspect(&app, REPORTS, &access).await).await, json!({ "active": false }));
}

#[tokio::test]
async fn tampered_expired_and_foreign_tokens_are_exactly_inactive() {
    let app = spawn().await;
    let access = token(&app.sign_in(&unique_email()).await, "access_token");
    let mut tampered = access.clone().into_bytes();
    let at = "v4.public.".len() + 10;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for presented in [tampered.as_str(), "nonsense", "", &"v".repeat(5000)] {
        assert_eq!(answer(introspect(&app, BILLING, presented).await).await, json!({ "active": false }));
    }
    let other = spawn().await;
    let foreign = token(&other.sign_in(&unique_email()).await, "access_token");
    assert_eq!(answer(introspect(&app, BILLING, &foreign).await).await, json!({ "active": false }));

    assert_eq!(answer(introspect(&app, BILLING, &access).await).await["active"], true);
    app.clock.advance(Duration::from_secs(1801));
    assert_eq!(answer(introspect(&app, BILLING, &access).await).await, json!({ "active": false }));
}

#[tokio::test]
async fn a_missing_or_wrong_credential_is_401_before_the_body_is_read() {
    let app = spawn().await;
    let access = token(&app.sign_in(&unique_email()).await, "access_token");
    let body = format!("token={access}");
    for credential in [None, Some("svc-unknown-0000000000000000000000000000000"), Some(&access[..])] {
        let response = introspect_at(&app, "/auth/introspect", credential, &body).await;
        assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="introspection""#);
        assert_problem(response, StatusCode::UNAUTHORIZED, "service_credential_invalid").await;
    }
    let garbage = introspect_at(&app, "/auth/introspect", Some("wrong"), "\u{0}not a form").await;
    assert_problem(garbage, StatusCode::UNAUTHORIZED, "service_credential_invalid").await;
    let basic = app
        .client
        .post(app.url("/auth/introspect"))
        .basic_auth("svc", Some(BILLING))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_problem(basic, StatusCode::UNAUTHORIZED, "service_credential_invalid").await;

    let unconfigured = spawn_app_with(|_| {}).await;
    let response = introspect(&unconfigured, BILLING, &access).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "service_credential_invalid").await;
}

#[tokio::test]
async fn a_body_without_a_token_is_a_validation_problem() {
    let app = spawn().await;
    for body in ["", "token_type_hint=access_token"] {
        let response = introspect_at(&app, "/auth/introspect", Some(BILLING), body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let json = app
        .client
        .post(app.url("/auth/introspect"))
        .bearer_auth(BILLING)
        .json(&json!({ "token": "x" }))
        .send()
        .await
        .unwrap();
    assert_problem(json, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn each_credential_has_its_own_budget_and_the_python_prefix_answers_too() {
    let app = spawn_app_with(|settings| {
        settings.introspection_tokens = Some(format!("{BILLING},{REPORTS}").into());
        settings.introspection_rate_limit_per_minute = 2;
    })
    .await;
    let access = token(&app.sign_in(&unique_email()).await, "access_token");
    let body = format!("token={access}");
    assert_eq!(answer(introspect(&app, BILLING, &access).await).await["active"], true);
    let prefixed = introspect_at(&app, "/api/auth/introspect", Some(BILLING), &body).await;
    assert_eq!(answer(prefixed).await["active"], true);
    let limited = introspect(&app, BILLING, &access).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(answer(introspect(&app, REPORTS, &access).await).await["active"], true);
}
