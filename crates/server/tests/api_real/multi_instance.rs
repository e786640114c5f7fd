//! Two server processes' worth of instances over one PostgreSQL database and one Redis
//! key prefix act as one service.

use std::sync::Arc;

use otp_memory::{ManualClock, RecordingMailer};
use otp_server::Settings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestDatabase, TestRedis, email, start_instance, unique_email, use_real_stores, with_shared_secrets,
};

struct Pair {
    instances: [String; 2],
    mailer: Arc<RecordingMailer>,
    client: reqwest::Client,
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

async fn spawn_pair(configure: impl FnOnce(&mut Settings)) -> Pair {
    let mut settings =
        Settings { port: 0, metrics_addr: String::new(), workers: Some(2), ..Settings::default() };
    let stores = use_real_stores(&mut settings).await;
    settings.rate_limit_per_ip = 1000;
    settings.rate_limit_per_email = 1000;
    with_shared_secrets(&mut settings);
    configure(&mut settings);
    let (mailer, clock) = (Arc::new(RecordingMailer::new()), Arc::new(ManualClock::starting_now()));
    let mut instances = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..2 {
        let (address, _, handle) = start_instance(&settings, mailer.clone(), clock.clone()).await;
        instances.push(address);
        handles.push(handle);
    }
    let instances = [instances.remove(0), instances.remove(0)];
    Pair { instances, mailer, client: reqwest::Client::new(), handles, _stores: stores }
}

impl Pair {
    async fn post(&self, instance: usize, path: &str, body: Value) -> reqwest::Response {
        self.client.post(format!("{}{path}", self.instances[instance % 2])).json(&body).send().await.unwrap()
    }

    fn code(&self, address: &str) -> String {
        self.mailer.last_code_for(&email(address)).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_sent_through_one_instance_verifies_through_the_other_and_logout_is_shared() {
    let pair = spawn_pair(|_| {}).await;
    let address = unique_email();
    assert_eq!(
        pair.post(0, "/auth/send-otp", json!({ "email": address })).await.status(),
        StatusCode::ACCEPTED
    );
    let response =
        pair.post(1, "/auth/verify-otp", json!({ "email": address, "code": pair.code(&address) })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let me = |instance: usize| {
        pair.client.get(format!("{}/auth/me", pair.instances[instance])).bearer_auth(access)
    };
    assert_eq!(me(0).send().await.unwrap().status(), StatusCode::OK);
    let logout = pair.client.post(format!("{}/auth/logout", pair.instances[0])).bearer_auth(access);
    assert_eq!(logout.send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(me(1).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let refresh = pair.post(1, "/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn of_100_concurrent_right_codes_over_two_instances_exactly_one_signs_in() {
    let pair = Arc::new(spawn_pair(|_| {}).await);
    let address = unique_email();
    pair.post(0, "/auth/send-otp", json!({ "email": address })).await;
    let code = pair.code(&address);
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let (pair, body) = (Arc::clone(&pair), json!({ "email": address, "code": code }));
            tokio::spawn(async move { pair.post(n, "/auth/verify-otp", body).await.status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|status| **status == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|status| *status == StatusCode::OK || *status == StatusCode::BAD_REQUEST));
}

#[tokio::test(flavor = "multi_thread")]
async fn of_90_concurrent_wrong_guesses_over_two_instances_at_most_five_are_evaluated() {
    // 90, not more: past OTP_MAX_FAILURES_PER_DAY (100) checks a day from clients
    // without a remembered device, the address is locked (otp_locked), which a test of
    // its own covers (security::guessing).
    let pair = Arc::new(spawn_pair(|_| {}).await);
    let address = unique_email();
    pair.post(1, "/auth/send-otp", json!({ "email": address })).await;
    let right = pair.code(&address);
    let tasks: Vec<_> = (0..90)
        .map(|n| {
            let guess = format!("{:06}", (right.parse::<u32>().unwrap() + 1 + n) % 1_000_000);
            let (pair, body) = (Arc::clone(&pair), json!({ "email": address, "code": guess }));
            tokio::spawn(async move {
                let response = pair.post(n as usize, "/auth/verify-otp", body).await;
                response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap());
    }
    let evaluated = codes.iter().filter(|code| *code == "otp_invalid").count();
    assert_eq!(evaluated, 5, "{codes:?}");
    assert!(codes.iter().all(|code| code == "otp_invalid" || code == "otp_attempts_exceeded"));
    let response = pair.post(0, "/auth/verify-otp", json!({ "email": address, "code": right })).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "otp_attempts_exceeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_ip_limit_on_send_otp_counts_requests_to_both_instances() {
    let pair = spawn_pair(|settings| settings.rate_limit_per_ip = 5).await;
    let mut accepted = 0;
    let mut limited = 0;
    for n in 0..12 {
        match pair.post(n, "/auth/send-otp", json!({ "email": unique_email() })).await.status() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((accepted, limited), (5, 7));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_rotated_on_one_instance_is_reuse_on_the_other() {
    let pair = spawn_pair(|_| {}).await;
    let address = unique_email();
    pair.post(0, "/auth/send-otp", json!({ "email": address })).await;
    let tokens: Value = pair
        .post(0, "/auth/verify-otp", json!({ "email": address, "code": pair.code(&address) }))
        .await
        .json()
        .await
        .unwrap();
    let rotated = pair.post(0, "/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let reuse = pair.post(1, "/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    let latest = pair.post(1, "/auth/refresh", json!({ "refresh_token": rotated["refresh_token"] })).await;
    assert_eq!(latest.status(), StatusCode::UNAUTHORIZED, "reuse ended the whole session");
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_reports_the_database_and_redis() {
    let pair = spawn_pair(|_| {}).await;
    let ready: Value =
        pair.client.get(format!("{}/ready", pair.instances[0])).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        (ready["checks"]["database"].as_str(), ready["checks"]["redis"].as_str()),
        (Some("ok"), Some("ok"))
    );
}
