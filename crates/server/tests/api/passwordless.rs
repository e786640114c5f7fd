use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, assert_same_but_for_email, spawn_app, token, unique_email};

#[tokio::test]
async fn send_verify_me_logout_then_me_is_refused() {
    let app = spawn_app().await;
    let address = unique_email();
    let response = app.send_otp(&address.to_uppercase()).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);

    let code = app.last_code(&address);
    assert_eq!(code.len(), 6);
    let response = app.verify_otp(&address, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1800);
    assert!(token(&tokens, "access_token").starts_with("v4.public."));
    assert!(!token(&tokens, "refresh_token").is_empty());
    assert_eq!(tokens["user"]["email"], address.as_str());
    assert_eq!(tokens["user"]["email_verified"], true);
    assert_eq!(tokens["user"]["has_password"], false);

    let access = token(&tokens, "access_token");
    let me: Value = app.get_with_token("/auth/me", &access).await.json().await.unwrap();
    assert_eq!(me["email"], address.as_str());
    assert_eq!(me["id"], tokens["user"]["id"]);

    assert_eq!(app.post_with_token("/auth/logout", &access).await.status(), StatusCode::OK);
    let refused = app.get_with_token("/auth/me", &access).await;
    assert_eq!(refused.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
    assert_problem(refused, StatusCode::UNAUTHORIZED, "token_invalid").await;
}

#[tokio::test]
async fn a_second_sign_in_reuses_the_account() {
    let app = spawn_app().await;
    let address = unique_email();
    let first = app.sign_in(&address).await;
    app.wait_out_cooldown();
    let second = app.sign_in(&address).await;
    assert_eq!(first["user"]["id"], second["user"]["id"]);
}

#[tokio::test]
async fn the_python_clients_routes_and_otp_field_work() {
    let app = spawn_app().await;
    let address = unique_email();
    let response = app.post("/api/auth/send-otp", &json!({ "email": address })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let code = app.last_code(&address);
    let response = app.post("/api/auth/verify-otp", &json!({ "email": address, "otp": code })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let me = app.get_with_token("/api/auth/me", &token(&tokens, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_used_code_is_refused() {
    let app = spawn_app().await;
    let address = unique_email();
    app.sign_in(&address).await;
    let code = app.last_code(&address);
    let body =
        assert_problem(app.verify_otp(&address, &code).await, StatusCode::BAD_REQUEST, "otp_invalid").await;
    assert!(body["detail"].as_str().unwrap().contains("already been used"));
}

#[tokio::test]
async fn after_five_wrong_codes_even_the_right_one_is_refused() {
    let app = spawn_app().await;
    let address = unique_email();
    app.send_otp(&address).await;
    let right = app.last_code(&address);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let body =
            assert_problem(app.verify_otp(&address, wrong).await, StatusCode::BAD_REQUEST, "otp_invalid")
                .await;
        let expected = if left == 1 { "1 try left".to_owned() } else { format!("{left} tries left") };
        assert!(body["detail"].as_str().unwrap().contains(&expected), "{body}");
    }
    let response = app.verify_otp(&address, &right).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "otp_attempts_exceeded").await;

    app.wait_out_cooldown();
    app.send_otp(&address).await;
    let fresh = app.last_code(&address);
    assert_eq!(app.verify_otp(&address, &fresh).await.status(), StatusCode::OK, "a new code works again");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = spawn_app().await;
    let address = unique_email();
    app.send_otp(&address).await;
    let code = app.last_code(&address);
    app.clock.advance(Duration::from_secs(300));
    assert_problem(app.verify_otp(&address, &code).await, StatusCode::BAD_REQUEST, "otp_expired").await;
}

#[tokio::test]
async fn a_code_still_works_just_before_it_expires() {
    let app = spawn_app().await;
    let address = unique_email();
    app.send_otp(&address).await;
    let code = app.last_code(&address);
    app.clock.advance(Duration::from_secs(299));
    assert_eq!(app.verify_otp(&address, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_new_code_within_the_cooldown_is_refused_with_retry_after() {
    let app = spawn_app().await;
    let address = unique_email();
    app.send_otp(&address).await;
    app.clock.advance(Duration::from_secs(20));
    let response = app.send_otp(&address).await;
    assert_eq!(response.headers()["retry-after"], "40");
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "otp_cooldown").await;
    let resend = app.post("/auth/resend-otp", &json!({ "email": address })).await;
    assert_problem(resend, StatusCode::TOO_MANY_REQUESTS, "otp_cooldown").await;
    app.clock.advance(Duration::from_secs(40));
    assert_eq!(app.send_otp(&address).await.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_resent_code_replaces_the_previous_one() {
    let app = spawn_app().await;
    let address = unique_email();
    app.send_otp(&address).await;
    let first = app.last_code(&address);
    app.wait_out_cooldown();
    let response = app.post("/auth/resend-otp", &json!({ "email": address })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let second = app.last_code(&address);
    if first != second {
        assert_problem(app.verify_otp(&address, &first).await, StatusCode::BAD_REQUEST, "otp_invalid").await;
    }
    assert_eq!(app.verify_otp(&address, &second).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn send_otp_answers_the_same_for_known_and_unknown_addresses() {
    let app = spawn_app().await;
    let known = unique_email();
    app.sign_in(&known).await;
    app.wait_out_cooldown();
    let unknown = unique_email();
    let for_known = app.send_otp(&known).await;
    let for_unknown = app.send_otp(&unknown).await;
    assert_same_but_for_email(for_known, &known, for_unknown, &unknown).await;
}

#[tokio::test]
async fn an_unreachable_mailer_answers_503_unavailable() {
    let app = spawn_app().await;
    app.mailer.set_failing(true);
    assert_problem(app.send_otp(&unique_email()).await, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
}
