//! A database or Redis that goes away gives 503 `unavailable` within the pool time-out,
//! and service comes back by itself when it returns. The outage is a TCP proxy the
//! test cuts, so the shared servers stay up for the other tests.

use std::sync::Arc;
use std::time::Duration;

use otp_memory::{ManualClock, RecordingMailer};
use otp_server::Settings;
use otp_test_support::TcpProxy;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestDatabase, TestRedis, email, start_instance, unique_email, with_shared_secrets};

/// Retries `request` until it answers `expected`, for at most 15 s.
async fn eventually(expected: StatusCode, mut request: impl AsyncFnMut() -> StatusCode) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let status = request().await;
        if status == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {status}, expected {expected}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn unavailable_within_the_timeout(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_gives_503_and_service_returns_by_itself() {
    let database = TestDatabase::migrated().await;
    let proxy = TcpProxy::start("127.0.0.1:5432").await;
    let through_proxy = database.url().replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port()));
    let mut settings = Settings {
        port: 0,
        metrics_addr: String::new(),
        workers: Some(2),
        database_url: Some(through_proxy.into()),
        run_migrations: Some(false),
        database_timeout_seconds: 2,
        // Every token check reads the database (a cached one would answer 200 for up
        // to TOKEN_CACHE_TTL_SECONDS into the outage).
        token_cache_ttl_seconds: 0,
        ..Settings::default()
    };
    let (mailer, clock) = (Arc::new(RecordingMailer::new()), Arc::new(ManualClock::starting_now()));
    with_shared_secrets(&mut settings);
    let (base, _, handle) = start_instance(&settings, mailer.clone(), clock).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    let address = unique_email();
    client.post(format!("{base}/auth/send-otp")).json(&json!({ "email": address })).send().await.unwrap();
    let code = mailer.last_code_for(&email(&address)).unwrap();
    let tokens: Value = client
        .post(format!("{base}/auth/verify-otp"))
        .json(&json!({ "email": address, "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let me = || client.get(format!("{base}/auth/me")).bearer_auth(&access).send();
    assert_eq!(me().await.unwrap().status(), StatusCode::OK);

    proxy.cut();
    unavailable_within_the_timeout(me().await.unwrap()).await;
    let ready = client.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["database"], "unavailable");

    proxy.restore();
    eventually(StatusCode::OK, async || me().await.unwrap().status()).await;
    handle.stop(false).await;
    drop(database);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_outage_gives_503_and_service_returns_by_itself() {
    let redis = TestRedis::new().await;
    let proxy = TcpProxy::start("127.0.0.1:6379").await;
    let mut settings = Settings {
        port: 0,
        metrics_addr: String::new(),
        workers: Some(2),
        redis_url: Some(format!("redis://127.0.0.1:{}", proxy.port()).into()),
        redis_key_prefix: redis.key_prefix().to_owned(),
        redis_timeout_ms: 500,
        ..Settings::default()
    };
    let (mailer, clock) = (Arc::new(RecordingMailer::new()), Arc::new(ManualClock::starting_now()));
    with_shared_secrets(&mut settings);
    let (base, _, handle) = start_instance(&settings, mailer, clock).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let send =
        || client.post(format!("{base}/auth/send-otp")).json(&json!({ "email": unique_email() })).send();
    assert_eq!(send().await.unwrap().status(), StatusCode::ACCEPTED);

    proxy.cut();
    unavailable_within_the_timeout(send().await.unwrap()).await;
    proxy.restore();
    eventually(StatusCode::ACCEPTED, async || send().await.unwrap().status()).await;
    handle.stop(false).await;
}
