use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with, token, unique_email};
use crate::metrics::{scrape, value};

#[tokio::test]
async fn sessions_are_listed_and_one_can_be_ended() {
    let app = spawn_app().await;
    let address = unique_email();
    let first = app.register_verified(&address).await;
    app.clock.advance(std::time::Duration::from_secs(1));
    let second: Value = app.login(&address, PASSWORD).await.json().await.unwrap();
    let (first_access, second_access) = (token(&first, "access_token"), token(&second, "access_token"));

    let listed: Value = app.get_with_token("/auth/sessions", &second_access).await.json().await.unwrap();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["current"], true, "newest first, and the newest is the caller's");
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    let other = sessions[1]["id"].as_str().unwrap().to_owned();

    let ended = app.delete_with_token(&format!("/auth/sessions/{other}"), &second_access).await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_with_token("/auth/me", &first_access).await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    )
    .await;
    assert_eq!(app.get_with_token("/auth/me", &second_access).await.status(), StatusCode::OK);
    let again = app.delete_with_token(&format!("/auth/sessions/{other}"), &second_access).await;
    assert_problem(again, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn another_users_session_cannot_be_seen_or_ended() {
    let app = spawn_app().await;
    let ann = app.sign_in(&unique_email()).await;
    let bob = app.sign_in(&unique_email()).await;
    let bob_access = token(&bob, "access_token");
    let bobs: Value = app.get_with_token("/auth/sessions", &bob_access).await.json().await.unwrap();
    let bob_session = bobs["sessions"][0]["id"].as_str().unwrap().to_owned();

    let ann_access = token(&ann, "access_token");
    let anns: Value = app.get_with_token("/auth/sessions", &ann_access).await.json().await.unwrap();
    assert_eq!(anns["sessions"].as_array().unwrap().len(), 1);
    assert_ne!(anns["sessions"][0]["id"], bobs["sessions"][0]["id"]);

    let response = app.delete_with_token(&format!("/auth/sessions/{bob_session}"), &ann_access).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.get_with_token("/auth/me", &bob_access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_malformed_session_id_is_not_found() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    let response = app.delete_with_token("/auth/sessions/not-a-uuid", &token(&tokens, "access_token")).await;
    assert_problem(response, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn sessions_need_a_token() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/auth/sessions")).send().await.unwrap();
    assert_problem(response, StatusCode::UNAUTHORIZED, "token_invalid").await;
}

async fn session_ip_seen_through(trusted_proxies: &str, forwarded_for: &str) -> String {
    session_ip_seen_with("x-forwarded-for", trusted_proxies, forwarded_for, "for=192.0.2.99").await
}

/// The session address recorded for a sign-in through `header_setting`
/// (`TRUSTED_PROXY_HEADER`) with these `X-Forwarded-For` and `Forwarded` values.
async fn session_ip_seen_with(
    header_setting: &str,
    trusted_proxies: &str,
    forwarded_for: &str,
    forwarded: &str,
) -> String {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.trusted_proxies = trusted_proxies.into();
        settings.trusted_proxy_header = header_setting.into();
    })
    .await;
    let address = unique_email();
    app.send_otp(&address).await;
    let code = app.last_code(&address);
    let response = app
        .client
        .post(app.url("/auth/verify-otp"))
        .header("x-forwarded-for", forwarded_for)
        .header("forwarded", forwarded)
        .json(&serde_json::json!({ "email": address, "code": code }))
        .send()
        .await
        .unwrap();
    let tokens: Value = response.json().await.unwrap();
    let listed: Value =
        app.get_with_token("/auth/sessions", &token(&tokens, "access_token")).await.json().await.unwrap();
    listed["sessions"][0]["ip"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_recorded_client_address_honours_only_trusted_proxies() {
    assert_eq!(session_ip_seen_through("", "198.51.100.20").await, "127.0.0.1");
    assert_eq!(session_ip_seen_through("127.0.0.1", "6.6.6.6, 198.51.100.20").await, "198.51.100.20");
}

#[tokio::test]
async fn behind_proxies_that_set_forwarded_only_that_header_is_read() {
    let chain = "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https";
    let seen = session_ip_seen_with("forwarded", "127.0.0.1", "198.51.100.20", chain).await;
    assert_eq!(seen, "2001:db8:cafe::17", "the Forwarded chain decides; X-Forwarded-For is ignored");
    let untrusted = session_ip_seen_with("forwarded", "", "198.51.100.20", chain).await;
    assert_eq!(untrusted, "127.0.0.1", "only from a trusted proxy");
}

#[tokio::test]
async fn an_account_at_its_session_limit_ends_the_least_recently_used_session() {
    let app = spawn_app_with(|settings| settings.max_sessions_per_user = 2).await;
    let address = unique_email();
    let first = app.register_verified(&address).await;
    app.wait_out_cooldown();
    let second: Value = app.login(&address, PASSWORD).await.json().await.unwrap();
    app.wait_out_cooldown();
    let refreshed_first: Value = app.refresh(token(&first, "refresh_token")).await.json().await.unwrap();
    app.wait_out_cooldown();

    let third: Value = app.login(&address, PASSWORD).await.json().await.unwrap();
    let listed: Value =
        app.get_with_token("/auth/sessions", &token(&third, "access_token")).await.json().await.unwrap();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2, "{listed}");

    let ended = app.get_with_token("/auth/me", &token(&second, "access_token")).await;
    assert_problem(ended, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let refresh = app.refresh(token(&second, "refresh_token")).await;
    assert_problem(refresh, StatusCode::UNAUTHORIZED, "token_invalid").await;
    for kept in [&refreshed_first, &third] {
        let me = app.get_with_token("/auth/me", &token(kept, "access_token")).await;
        assert_eq!(me.status(), StatusCode::OK, "the sessions used last are kept");
    }
}

/// Ended sessions and forgotten devices are deleted once `SESSION_RETENTION_DAYS` (30)
/// have passed since they ended; live ones stay, however old they are.
#[tokio::test]
async fn ended_sessions_and_forgotten_devices_are_purged_after_their_retention() {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
    let app = spawn_app_with(|settings| settings.purge_interval_seconds = 1).await;
    let ended = app.sign_in(&unique_email()).await;
    let live = app.sign_in(&unique_email()).await;
    let access = token(&ended, "access_token");
    let listed: Value = app.get_with_token("/auth/sessions", &access).await.json().await.unwrap();
    let device = listed["devices"][0]["id"].as_str().unwrap().to_owned();
    let forgotten = app.delete_with_token(&format!("/auth/devices/{device}"), &access).await;
    assert_eq!(forgotten.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.post_with_token("/auth/logout", &access).await.status(), StatusCode::OK);

    app.clock.advance(29 * DAY);
    let renewed = app.refresh(token(&live, "refresh_token")).await;
    assert_eq!(renewed.status(), StatusCode::OK, "the live session is used on day 29");
    let renewed: Value = renewed.json().await.unwrap();
    app.clock.advance(2 * DAY);

    let purged = |samples: &std::collections::HashMap<String, f64>| {
        let of = |kind: &str| value(samples, &format!("otp_records_purged_total{{kind=\"{kind}\"}}"));
        (of("session"), of("device"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (sessions, devices) = purged(&scrape(&app).await);
        if sessions > 0.0 && devices > 0.0 {
            assert_eq!((sessions, devices), (1.0, 1.0), "the ended session and the forgotten device only");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing purged: {sessions} sessions, {devices} devices"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let again = app.refresh(token(&renewed, "refresh_token")).await;
    assert_eq!(again.status(), StatusCode::OK, "the live session was kept");
    let again: Value = again.json().await.unwrap();
    let listed: Value =
        app.get_with_token("/auth/sessions", &token(&again, "access_token")).await.json().await.unwrap();
    assert_eq!(listed["devices"].as_array().unwrap().len(), 1, "the live account keeps its device: {listed}");
}
