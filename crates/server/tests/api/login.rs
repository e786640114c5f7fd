use std::time::Duration;

use otp_core::domain::MailKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, email, spawn_app, token, unique_email};

#[tokio::test]
async fn a_verified_account_logs_in_with_its_password() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    let response = app.login(&address.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let me = app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_address_wrong_password_and_passwordless_account_get_the_same_401() {
    let app = spawn_app().await;
    let registered = unique_email();
    app.register_verified(&registered).await;
    let passwordless = unique_email();
    app.sign_in(&passwordless).await;

    let mut bodies = Vec::new();
    for (address, password) in
        [(unique_email(), PASSWORD), (registered, "wrong password"), (passwordless, PASSWORD)]
    {
        let response = app.login(&address, password).await;
        let mut body = assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        body.as_object_mut().unwrap().remove("instance");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "{bodies:?}");
}

#[tokio::test]
async fn a_stale_code_check_makes_login_ask_for_a_code() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    app.clock.advance(Duration::from_secs(31 * 60));

    let response = app.login(&address, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["otp_required"], true);
    assert_eq!(body["expires_in"], 300);
    assert!(body.get("access_token").is_none());
    let message = app.mailer.last_to(&email(&address)).unwrap();
    assert!(matches!(message.kind, MailKind::LoginCheckCode { .. }));

    let code = app.last_code(&address);
    let response = app.verify_otp(&address, &code).await;
    assert_eq!(response.status(), StatusCode::OK, "verify-otp completes the log-in");
    assert_eq!(app.login(&address, PASSWORD).await.status(), StatusCode::OK, "the check is fresh again");
}

#[tokio::test]
async fn a_second_login_within_the_cooldown_points_to_the_code_already_sent() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    app.clock.advance(Duration::from_secs(31 * 60));
    app.login(&address, PASSWORD).await;
    let code = app.last_code(&address);
    app.clock.advance(Duration::from_secs(10));
    let body: Value = app.login(&address, PASSWORD).await.json().await.unwrap();
    assert_eq!(body["otp_required"], true);
    assert_eq!(body["resend_after"], 50);
    assert_eq!(body["expires_in"], 290, "the earlier code's remaining lifetime");
    assert_eq!(app.verify_otp(&address, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_overlong_password_at_login_is_just_wrong() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    let response = app.post("/auth/login", &json!({ "email": address, "password": "p".repeat(4000) })).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}
