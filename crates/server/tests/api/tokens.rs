use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, token, unique_email};

#[tokio::test]
async fn refresh_rotates_the_pair_and_the_new_access_token_works() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    let response = app.refresh(token(&tokens, "refresh_token")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rotated: Value = response.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    assert_ne!(rotated["access_token"], tokens["access_token"]);
    assert_eq!(rotated["user"]["id"], tokens["user"]["id"]);
    let me = app.get_with_token("/auth/me", &token(&rotated, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    let first = token(&tokens, "refresh_token");
    let rotated: Value = app.refresh(&first).await.json().await.unwrap();

    let reuse = app.refresh(&first).await;
    let body = assert_problem(reuse, StatusCode::UNAUTHORIZED, "token_invalid").await;
    assert!(body["detail"].as_str().unwrap().contains("already used"));

    let latest = app.refresh(token(&rotated, "refresh_token")).await;
    assert_problem(latest, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let me = app.get_with_token("/auth/me", &token(&rotated, "access_token")).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
}

#[tokio::test]
async fn a_forged_refresh_token_with_a_live_session_id_ends_nothing() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    let real = token(&tokens, "refresh_token");
    let session_id = real.split_once('.').unwrap().0;
    let random: Vec<u8> =
        [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()].iter().flat_map(|id| *id.as_bytes()).collect();
    let forged = format!("{session_id}.{}", URL_SAFE_NO_PAD.encode(random));
    assert_eq!(forged.len(), real.len());

    for _ in 0..3 {
        let response = app.refresh(&forged).await;
        let body = assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
        assert!(!body["detail"].as_str().unwrap().contains("already used"), "{body}");
    }
    let me = app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK, "the session survives");
    let rotated = app.refresh(real).await;
    assert_eq!(rotated.status(), StatusCode::OK, "its real refresh token still rotates");
    let rotated: Value = rotated.json().await.unwrap();
    let again = app.refresh(token(&rotated, "refresh_token")).await;
    assert_eq!(again.status(), StatusCode::OK);
}

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test]
async fn refresh_stops_at_the_absolute_session_lifetime_of_ninety_days() {
    let app = spawn_app().await;
    let mut tokens = app.sign_in(&unique_email()).await;
    // Refreshed well within each 30-day refresh lifetime, up to day 89.
    for wait in [29, 29, 29, 2] {
        app.clock.advance(wait * DAY);
        let response = app.refresh(token(&tokens, "refresh_token")).await;
        assert_eq!(response.status(), StatusCode::OK);
        tokens = response.json().await.unwrap();
    }
    app.clock.advance(DAY + Duration::from_secs(1));
    let response = app.refresh(token(&tokens, "refresh_token")).await;
    let body = assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
    assert!(body["detail"].as_str().unwrap().contains("maximum lifetime"), "{body}");
}

#[tokio::test]
async fn session_max_lifetime_days_sets_the_absolute_lifetime() {
    let app = spawn_app_with(|settings| settings.session_max_lifetime_days = 1).await;
    let tokens = app.sign_in(&unique_email()).await;
    app.clock.advance(DAY - Duration::from_secs(60));
    let response = app.refresh(token(&tokens, "refresh_token")).await;
    assert_eq!(response.status(), StatusCode::OK, "within the day");
    let tokens: Value = response.json().await.unwrap();
    app.clock.advance(Duration::from_secs(61));
    let response = app.refresh(token(&tokens, "refresh_token")).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let me = app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    assert_problem(me, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let fresh = app.sign_in(&unique_email()).await;
    assert_eq!(app.refresh(token(&fresh, "refresh_token")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_logged_out_session_cannot_refresh() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    app.post_with_token("/auth/logout", &token(&tokens, "access_token")).await;
    let response = app.refresh(token(&tokens, "refresh_token")).await;
    assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
}

#[tokio::test]
async fn malformed_refresh_and_access_tokens_are_refused() {
    let app = spawn_app().await;
    for refresh in ["", "nonsense", "0123.abcd"] {
        let response = app.refresh(refresh).await;
        assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
    }
    for access in ["nonsense", "v4.public.AAAA", "v4.local.AAAA"] {
        assert_problem(
            app.get_with_token("/auth/me", access).await,
            StatusCode::UNAUTHORIZED,
            "token_invalid",
        )
        .await;
    }
    let missing = app.client.get(app.url("/auth/me")).send().await.unwrap();
    assert_problem(missing, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let basic = app.client.get(app.url("/auth/me")).basic_auth("ann", Some("pw")).send().await.unwrap();
    assert_problem(basic, StatusCode::UNAUTHORIZED, "token_invalid").await;
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    app.clock.advance(std::time::Duration::from_secs(1800));
    let response = app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    let body = assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
    assert!(body["detail"].as_str().unwrap().contains("expired"));
    let refreshed = app.refresh(token(&tokens, "refresh_token")).await;
    assert_eq!(refreshed.status(), StatusCode::OK, "the refresh token outlives the access token");
}

#[tokio::test]
async fn keys_publish_the_paserk_that_signs_tokens() {
    let app = spawn_app().await;
    let keys: Value = app.client.get(app.url("/auth/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys["issuer"], "otp-auth");
    let key = &keys["keys"][0];
    assert!(key["paserk"].as_str().unwrap().starts_with("k4.public."));
    assert_eq!(
        (key["version"].as_str(), key["purpose"].as_str(), key["current"].as_bool()),
        (Some("v4"), Some("public"), Some(true))
    );

    let tokens = app.sign_in(&unique_email()).await;
    let access = token(&tokens, "access_token");
    let footer = access.rsplit('.').next().unwrap();
    let footer: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(footer).unwrap()).unwrap();
    assert_eq!(footer["kid"], key["kid"]);

    let verifying = otp_core::crypto::VerifyingKey::from_paserk(key["paserk"].as_str().unwrap()).unwrap();
    assert_eq!(
        verifying.kid(),
        key["kid"].as_str().unwrap(),
        "the kid is the PASERK id of the published key"
    );
}
