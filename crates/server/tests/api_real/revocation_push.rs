//! Two instances over one PostgreSQL and one Redis, each serving token checks from its
//! own cache: a logout through one is refused by the other within a second (the push),
//! and within the staleness bound when the other's pub/sub connection is cut.

use std::sync::Arc;
use std::time::{Duration, Instant};

use otp_memory::RecordingMailer;
use otp_server::Settings;
use otp_test_support::TcpProxy;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestDatabase, TestRedis, email, start_instance_on_system_clock, unique_email, with_shared_secrets,
};

/// `REVOCATION_STALENESS_SECONDS` of the instances.
const STALENESS: Duration = Duration::from_secs(3);

struct Pair {
    a: String,
    b: String,
    mailer: Arc<RecordingMailer>,
    client: reqwest::Client,
    /// Between B and Redis (its pool and its subscription).
    proxy: TcpProxy,
    handles: Vec<actix_web::dev::ServerHandle>,
    _stores: (TestDatabase, TestRedis),
}

impl Drop for Pair {
    fn drop(&mut self) {
        for handle in self.handles.drain(..) {
            drop(tokio::spawn(async move { handle.stop(false).await }));
        }
    }
}

/// A reaches Redis directly, B through a proxy the test can cut; both cache token
/// checks for a minute, far longer than the test.
async fn start_pair() -> Pair {
    let (database, redis) = (TestDatabase::migrated().await, TestRedis::new().await);
    let redis_address = redis.url().trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let proxy = TcpProxy::start(&redis_address).await;
    let mut settings = Settings {
        port: 0,
        metrics_addr: String::new(),
        workers: Some(2),
        database_url: Some(database.url().to_owned().into()),
        redis_url: Some(redis.url().to_owned().into()),
        redis_key_prefix: redis.key_prefix().to_owned(),
        rate_limit_per_ip: 1000,
        rate_limit_per_email: 1000,
        token_cache_ttl_seconds: 60,
        revocation_staleness_seconds: STALENESS.as_secs(),
        ..Settings::default()
    };
    with_shared_secrets(&mut settings);
    let mailer = Arc::new(RecordingMailer::new());
    let (a, handle_a) = start_instance_on_system_clock(&settings, mailer.clone()).await;
    settings.redis_url = Some(format!("redis://127.0.0.1:{}", proxy.port()).into());
    let (b, handle_b) = start_instance_on_system_clock(&settings, mailer.clone()).await;
    // Time for both subscriptions to be listening.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Pair {
        a,
        b,
        mailer,
        client: reqwest::Client::new(),
        proxy,
        handles: vec![handle_a, handle_b],
        _stores: (database, redis),
    }
}

impl Pair {
    /// Signs a fresh address in through A; its access token.
    async fn sign_in(&self) -> String {
        let address = unique_email();
        let send = self.client.post(format!("{}/auth/send-otp", self.a)).json(&json!({ "email": address }));
        assert_eq!(send.send().await.unwrap().status(), StatusCode::ACCEPTED);
        let code = self.mailer.last_code_for(&email(&address)).unwrap();
        let verify = self
            .client
            .post(format!("{}/auth/verify-otp", self.a))
            .json(&json!({ "email": address, "code": code }));
        let tokens: Value = verify.send().await.unwrap().json().await.unwrap();
        tokens["access_token"].as_str().unwrap().to_owned()
    }

    async fn me(&self, base: &str, token: &str) -> StatusCode {
        self.client.get(format!("{base}/auth/me")).bearer_auth(token).send().await.unwrap().status()
    }

    async fn logout_through_a(&self, token: &str) {
        let logout = self.client.post(format!("{}/auth/logout", self.a)).bearer_auth(token);
        assert_eq!(logout.send().await.unwrap().status(), StatusCode::OK);
    }

    /// How long after `since` B first refuses `token`, polling until `limit`.
    async fn refused_by_b_after(&self, token: &str, since: Instant, limit: Duration) -> Duration {
        loop {
            if self.me(&self.b, token).await == StatusCode::UNAUTHORIZED {
                return since.elapsed();
            }
            assert!(since.elapsed() < limit, "B still accepts the revoked token after {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logout_through_one_instance_is_refused_by_the_other_within_a_second() {
    let pair = start_pair().await;
    let token = pair.sign_in().await;
    // B has checked the token, so its cache holds it (for a minute).
    assert_eq!(pair.me(&pair.b, &token).await, StatusCode::OK);
    assert_eq!(pair.me(&pair.b, &token).await, StatusCode::OK);

    let logged_out = Instant::now();
    pair.logout_through_a(&token).await;
    let took = pair.refused_by_b_after(&token, logged_out, Duration::from_secs(1)).await;
    println!("B refused the token {took:?} after the logout through A");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_push_cut_the_other_instance_refuses_within_the_staleness_bound() {
    let pair = start_pair().await;
    let token = pair.sign_in().await;
    assert_eq!(pair.me(&pair.b, &token).await, StatusCode::OK);

    // B loses Redis: its subscription (and its pool) are cut off.
    pair.proxy.cut();
    let logged_out = Instant::now();
    pair.logout_through_a(&token).await;
    // The push did not reach B: its cached check still answers (it is younger than the
    // bound). With the push, B would refuse within milliseconds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pair.me(&pair.b, &token).await, StatusCode::OK, "the push was cut");
    let took = pair.refused_by_b_after(&token, logged_out, STALENESS + Duration::from_millis(500)).await;
    println!("with the push cut, B refused the token {took:?} after the logout through A");

    pair.proxy.restore();
}
