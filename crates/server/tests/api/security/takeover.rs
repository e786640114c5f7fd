//! Attack 1, pre-registration takeover: a stranger registers the owner's address with a
//! password of their own; whatever code step the owner then takes from their own
//! client, that password never logs in.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Browser, spawn_behind_proxy};
use crate::helpers::{assert_problem, unique_email};

const STRANGERS_PASSWORD: &str = "the stranger's password";

#[tokio::test]
async fn the_owner_entering_the_registration_code_within_the_cooldown_drops_the_strangers_password() {
    let app = spawn_behind_proxy().await;
    let (stranger, mut owner) = (Browser::new(&app, 1), Browser::new(&app, 2));
    let victim = unique_email();
    assert_eq!(stranger.register(&victim, STRANGERS_PASSWORD).await.status(), StatusCode::ACCEPTED);
    // The owner asks for a code, is told one was sent, and enters the one in the mail.
    assert_problem(owner.send_otp(&victim).await, StatusCode::TOO_MANY_REQUESTS, "otp_cooldown").await;
    let tokens = owner.signed_in_with(&victim, &app.last_code(&victim)).await;
    assert_eq!(
        (tokens["user"]["email_verified"].clone(), tokens["user"]["has_password"].clone()),
        (json!(true), json!(false))
    );
    assert_problem(
        stranger.login(&victim, STRANGERS_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_code_asked_for_with_resend_by_the_owner_drops_the_strangers_password() {
    let app = spawn_behind_proxy().await;
    let (stranger, mut owner) = (Browser::new(&app, 1), Browser::new(&app, 2));
    let victim = unique_email();
    stranger.register(&victim, STRANGERS_PASSWORD).await;
    app.wait_out_cooldown();
    assert_eq!(owner.resend_otp(&victim).await.status(), StatusCode::ACCEPTED);
    let tokens = owner.signed_in_with(&victim, &app.last_code(&victim)).await;
    assert_eq!(tokens["user"]["has_password"], false);
    assert_problem(
        stranger.login(&victim, STRANGERS_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn a_registration_after_the_owners_send_otp_does_not_survive_the_owners_code() {
    let app = spawn_behind_proxy().await;
    let (stranger, mut owner) = (Browser::new(&app, 1), Browser::new(&app, 2));
    let victim = unique_email();
    owner.send_otp(&victim).await;
    app.wait_out_cooldown();
    stranger.register(&victim, STRANGERS_PASSWORD).await;
    // The owner enters the newest code, the one of the stranger's "Confirm" mail.
    let tokens = owner.signed_in_with(&victim, &app.last_code(&victim)).await;
    assert_eq!(tokens["user"]["has_password"], false);
    assert_problem(
        stranger.login(&victim, STRANGERS_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn the_registrants_own_register_verify_login_flow_still_works_without_the_token() {
    let app = spawn_behind_proxy().await;
    let registrant = Browser::new(&app, 3);
    let address = unique_email();
    assert_eq!(registrant.register(&address, STRANGERS_PASSWORD).await.status(), StatusCode::ACCEPTED);
    let verified = registrant.verify_otp(&address, &app.last_code(&address)).await;
    assert_eq!(verified.status(), StatusCode::OK);
    let body: Value = verified.json().await.unwrap();
    assert_eq!(body["user"]["has_password"], true);
    assert_eq!(registrant.login(&address, STRANGERS_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_registration_token_keeps_the_password_from_another_network() {
    let app = spawn_behind_proxy().await;
    let registrant = Browser::new(&app, 4);
    let address = unique_email();
    let registered: Value = registrant.register(&address, STRANGERS_PASSWORD).await.json().await.unwrap();
    let token = registered["registration_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 43);
    let moved = registrant.moved_to("203.0.113.40");
    let body = json!({ "email": address, "code": app.last_code(&address), "registration_token": token });
    let verified: Value = moved.post("/auth/verify-otp", &body).await.json().await.unwrap();
    assert_eq!(verified["user"]["has_password"], true);
}

#[tokio::test]
async fn without_the_token_another_network_is_another_client() {
    let app = spawn_behind_proxy().await;
    let registrant = Browser::new(&app, 5);
    let address = unique_email();
    registrant.register(&address, STRANGERS_PASSWORD).await;
    let mut moved = registrant.moved_to("203.0.113.41");
    let verified = moved.signed_in_with(&address, &app.last_code(&address)).await;
    assert_eq!(verified["user"]["has_password"], false);
}

#[tokio::test]
async fn register_answers_the_same_shape_for_known_and_unknown_addresses() {
    let app = spawn_behind_proxy().await;
    let mut owner = Browser::new(&app, 6);
    let known = unique_email();
    owner.send_otp(&known).await;
    owner.signed_in_with(&known, &app.last_code(&known)).await;
    app.wait_out_cooldown();
    let stranger = Browser::new(&app, 7);
    let for_known: Value = stranger.register(&known, STRANGERS_PASSWORD).await.json().await.unwrap();
    let for_unknown: Value =
        stranger.register(&unique_email(), STRANGERS_PASSWORD).await.json().await.unwrap();
    let keys = |body: &Value| body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&for_known), keys(&for_unknown));
    assert_eq!(for_known["message"], for_unknown["message"]);
    assert_eq!(for_known["registration_token"].as_str().unwrap().len(), 43);
}
