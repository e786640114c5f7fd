use otp_core::domain::MailKind;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    PASSWORD, assert_problem, assert_same_but_for_email, email, spawn_app, token, unique_email,
};

#[tokio::test]
async fn reset_sets_the_password_and_ends_every_session() {
    let app = spawn_app().await;
    let address = unique_email();
    let first = app.register_verified(&address).await;
    let second = app.login(&address, PASSWORD).await.json::<serde_json::Value>().await.unwrap();

    let response = app.post("/auth/password/forgot", &json!({ "email": address })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let message = app.mailer.last_to(&email(&address)).unwrap();
    assert!(matches!(message.kind, MailKind::PasswordResetCode { .. }));
    let code = app.last_code(&address);

    let body = json!({ "email": address, "code": code, "new_password": "a brand new password" });
    assert_eq!(app.post("/auth/password/reset", &body).await.status(), StatusCode::OK);

    for tokens in [&first, &second] {
        let me = app.get_with_token("/auth/me", &token(tokens, "access_token")).await;
        assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
        let refresh = app.refresh(token(tokens, "refresh_token")).await;
        assert_problem(refresh, StatusCode::UNAUTHORIZED, "token_invalid").await;
    }
    assert_problem(app.login(&address, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials")
        .await;
    assert_eq!(app.login(&address, "a brand new password").await.status(), StatusCode::OK);
    assert_problem(app.post("/auth/password/reset", &body).await, StatusCode::BAD_REQUEST, "otp_invalid")
        .await;
}

#[tokio::test]
async fn forgot_answers_the_same_for_unknown_addresses_and_mails_them_a_notice_without_a_code() {
    let app = spawn_app().await;
    let known = unique_email();
    app.register_verified(&known).await;
    let unknown = unique_email();
    let for_known = app.post("/auth/password/forgot", &json!({ "email": known })).await;
    let for_unknown = app.post("/auth/password/forgot", &json!({ "email": unknown })).await;
    assert_same_but_for_email(for_known, &known, for_unknown, &unknown).await;
    let notice = app.mailer.last_to(&email(&unknown)).expect("one message for every address");
    assert_eq!(notice.kind, otp_core::domain::MailKind::PasswordResetNoAccount);
    assert!(notice.kind.code().is_none());
    let again = app.post("/auth/password/forgot", &json!({ "email": unknown })).await;
    assert_problem(again, StatusCode::TOO_MANY_REQUESTS, "otp_cooldown").await;
}

#[tokio::test]
async fn a_sign_in_code_cannot_reset_a_password() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    app.wait_out_cooldown();
    app.send_otp(&address).await;
    let sign_in_code = app.last_code(&address);
    app.post("/auth/password/forgot", &json!({ "email": address })).await;
    let body = json!({ "email": address, "code": sign_in_code, "new_password": "a brand new password" });
    let response = app.post("/auth/password/reset", &body).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "otp_invalid").await;
}

#[tokio::test]
async fn a_short_new_password_is_refused_before_the_code_is_spent() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    app.post("/auth/password/forgot", &json!({ "email": address })).await;
    let code = app.last_code(&address);
    let short = json!({ "email": address, "code": code, "new_password": "short" });
    assert_problem(
        app.post("/auth/password/reset", &short).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let good = json!({ "email": address, "otp": code, "new_password": "long enough now" });
    assert_eq!(app.post("/auth/password/reset", &good).await.status(), StatusCode::OK);
}
