//! Attacks 4 and 6: strangers cannot lock the owner's remembered device out, and the
//! code re-check at log-in is per device.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Browser, spawn_behind_proxy, spawn_behind_proxy_with};
use crate::helpers::{PASSWORD, assert_problem, token, unique_email};

#[tokio::test]
async fn strangers_wrong_codes_and_sends_from_twelve_addresses_do_not_lock_out_the_owners_device() {
    let app = spawn_behind_proxy().await;
    let mut owner = Browser::new(&app, 2);
    let victim = unique_email();
    owner.send_otp(&victim).await;
    let first = owner.signed_in_with(&victim, &app.last_code(&victim)).await;
    let device_token = token(&first, "device_token");
    assert!(device_token.len() >= 32 + 1 + 22, "at least 128 random bits: {device_token}");
    app.wait_out_cooldown();

    for n in 100..112 {
        let stranger = Browser::new(&app, n);
        stranger.send_otp(&victim).await;
        stranger.verify_otp(&victim, "000000").await;
    }
    // The address's shared budgets are spent: a client without the device is refused.
    let newcomer = Browser::new(&app, 150);
    assert_problem(newcomer.send_otp(&victim).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_problem(
        newcomer.verify_otp(&victim, "000000").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;

    assert_eq!(
        owner.send_otp(&victim).await.status(),
        StatusCode::ACCEPTED,
        "the owner's device gets a code"
    );
    let again = owner.signed_in_with(&victim, &app.last_code(&victim)).await;
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    assert_eq!(token(&again, "device_token"), device_token, "the device keeps its token");
}

#[tokio::test]
async fn right_after_a_code_sign_in_the_password_needs_a_code_on_a_new_device_but_not_on_the_owners() {
    let app = spawn_behind_proxy().await;
    let mut owner = Browser::new(&app, 3);
    let address = unique_email();
    owner.register(&address, PASSWORD).await;
    let signed_in = owner.signed_in_with(&address, &app.last_code(&address)).await;
    assert_eq!(signed_in["user"]["has_password"], true);

    let thief = Browser::new(&app, 66);
    let from_new_device = thief.login(&address, PASSWORD).await;
    assert_eq!(from_new_device.status(), StatusCode::ACCEPTED);
    let body: Value = from_new_device.json().await.unwrap();
    assert_eq!(body["otp_required"], true);

    let from_owner = owner.login(&address, PASSWORD).await;
    assert_eq!(from_owner.status(), StatusCode::OK);
    let body: Value = from_owner.json().await.unwrap();
    assert_eq!(body["device_token"].as_str(), owner.device_token.as_deref());
}

#[tokio::test]
async fn devices_are_listed_with_the_sessions_and_a_forgotten_one_needs_a_code_again() {
    let app = spawn_behind_proxy().await;
    let mut owner = Browser::new(&app, 4);
    let address = unique_email();
    owner.register(&address, PASSWORD).await;
    let signed_in = owner.signed_in_with(&address, &app.last_code(&address)).await;
    let access = token(&signed_in, "access_token");

    let listed: Value = app.get_with_token("/auth/sessions", &access).await.json().await.unwrap();
    let devices = listed["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{listed}");
    assert_eq!(devices[0]["user_agent"], "Browser 4");
    let id = devices[0]["id"].as_str().unwrap().to_owned();
    assert!(owner.device_token.as_deref().unwrap().starts_with(&id.replace('-', "")));

    let forgotten = app.delete_with_token(&format!("/auth/devices/{id}"), &access).await;
    assert_eq!(forgotten.status(), StatusCode::NO_CONTENT);
    let again = app.delete_with_token(&format!("/auth/devices/{id}"), &access).await;
    assert_problem(again, StatusCode::NOT_FOUND, "not_found").await;
    let login = owner.login(&address, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::ACCEPTED, "a forgotten device is a new device");
}

#[tokio::test]
async fn an_account_keeps_at_most_its_device_limit_and_forgets_the_least_recently_used() {
    let app = spawn_behind_proxy_with(|settings| settings.max_devices_per_user = 3).await;
    let address = unique_email();
    let mut browsers: Vec<Browser> = (10..=13).map(|n| Browser::new(&app, n)).collect();
    browsers[0].register(&address, PASSWORD).await;
    browsers[0].signed_in_with(&address, &app.last_code(&address)).await;
    for browser in &mut browsers[1..3] {
        app.wait_out_cooldown();
        browser.send_otp(&address).await;
        browser.signed_in_with(&address, &app.last_code(&address)).await;
    }
    app.wait_out_cooldown();
    let used_again = browsers[0].login(&address, PASSWORD).await;
    assert_eq!(used_again.status(), StatusCode::OK, "Browser 10 is used again: Browser 11 is now the oldest");

    app.wait_out_cooldown();
    browsers[3].send_otp(&address).await;
    let fourth = browsers[3].signed_in_with(&address, &app.last_code(&address)).await;
    let listed: Value =
        app.get_with_token("/auth/sessions", &token(&fourth, "access_token")).await.json().await.unwrap();
    let mut agents: Vec<&str> = listed["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|device| device["user_agent"].as_str().unwrap())
        .collect();
    agents.sort_unstable();
    assert_eq!(agents, ["Browser 10", "Browser 12", "Browser 13"], "{listed}");

    let forgotten = browsers[1].login(&address, PASSWORD).await;
    assert_eq!(forgotten.status(), StatusCode::ACCEPTED, "the forgotten device needs a code again");
    for kept in [&browsers[0], &browsers[2], &browsers[3]] {
        assert_eq!(kept.login(&address, PASSWORD).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_client_that_never_keeps_its_token_does_not_push_out_the_device_it_entered_its_code_on() {
    let app = spawn_behind_proxy_with(|settings| settings.max_devices_per_user = 3).await;
    let address = unique_email();
    let mut owner = Browser::new(&app, 20);
    owner.register(&address, PASSWORD).await;
    owner.signed_in_with(&address, &app.last_code(&address)).await;

    let script = Browser::new(&app, 20);
    for attempt in 1..=5 {
        let login = script.login(&address, PASSWORD).await;
        assert_eq!(login.status(), StatusCode::OK, "log-in {attempt}, recognised by network and user agent");
    }
    assert_eq!(owner.login(&address, PASSWORD).await.status(), StatusCode::OK, "the owner's device is kept");
}
