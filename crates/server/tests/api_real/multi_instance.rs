//! Several server instances over one PostgreSQL database and one Redis key prefix act
//! as one service, requests spread round-robin: two on the single-node stores, three on
//! the scaled ones (PgBouncer and a Redis Cluster).

use std::sync::Arc;

use otp_core::crypto::SigningKey;
use otp_memory::{ManualClock, RecordingMailer};
use otp_server::Settings;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{RealStores, email, start_instance, unique_email, use_real_stores, with_shared_secrets};

/// How many instances serve each test.
const INSTANCES: usize = match crate::BACKEND {
    crate::helpers::Backend::Scaled => 3,
    _ => 2,
};

struct Instances {
    instances: Vec<String>,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    settings: Settings,
    client: reqwest::Client,
    handles: Vec<actix_web::dev::ServerHandle>,
    _stores: RealStores,
}

impl Drop for Instances {
    fn drop(&mut self) {
        for handle in self.handles.drain(..) {
            drop(tokio::spawn(async move { handle.stop(false).await }));
        }
    }
}

async fn spawn_instances(configure: impl FnOnce(&mut Settings)) -> Instances {
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
    for _ in 0..INSTANCES {
        let (address, _, handle) = start_instance(&settings, mailer.clone(), clock.clone()).await;
        instances.push(address);
        handles.push(handle);
    }
    Instances { instances, mailer, clock, settings, client: reqwest::Client::new(), handles, _stores: stores }
}

impl Instances {
    async fn post(&self, instance: usize, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.instances[instance % self.instances.len()]))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    fn code(&self, address: &str) -> String {
        self.mailer.last_code_for(&email(address)).unwrap()
    }

    /// Stops instance `index` and starts it again with `configure` applied to the
    /// group's settings (a rolling restart's step), on a new port.
    async fn restart(&mut self, index: usize, configure: impl FnOnce(&mut Settings)) {
        self.handles[index].stop(true).await;
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let (address, _, handle) = start_instance(&settings, self.mailer.clone(), self.clock.clone()).await;
        (self.instances[index], self.handles[index]) = (address, handle);
    }

    /// Signs a fresh address in by code through instance `index`; its access token.
    async fn access_token_from(&self, index: usize) -> String {
        let address = unique_email();
        self.post(index, "/auth/send-otp", json!({ "email": address })).await;
        let body = json!({ "email": address, "code": self.code(&address) });
        let tokens: Value = self.post(index, "/auth/verify-otp", body).await.json().await.unwrap();
        tokens["access_token"].as_str().unwrap().to_owned()
    }

    /// The status of `/auth/me` with `token` on every instance.
    async fn me_everywhere(&self, token: &str) -> Vec<StatusCode> {
        let mut statuses = Vec::new();
        for instance in &self.instances {
            let request = self.client.get(format!("{instance}/auth/me")).bearer_auth(token);
            statuses.push(request.send().await.unwrap().status());
        }
        statuses
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_sent_through_one_instance_verifies_through_the_other_and_logout_is_shared() {
    let group = spawn_instances(|_| {}).await;
    let address = unique_email();
    assert_eq!(
        group.post(0, "/auth/send-otp", json!({ "email": address })).await.status(),
        StatusCode::ACCEPTED
    );
    let response =
        group.post(1, "/auth/verify-otp", json!({ "email": address, "code": group.code(&address) })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    let me = |instance: usize| {
        group.client.get(format!("{}/auth/me", group.instances[instance])).bearer_auth(access)
    };
    assert_eq!(me(0).send().await.unwrap().status(), StatusCode::OK);
    let logout = group.client.post(format!("{}/auth/logout", group.instances[0])).bearer_auth(access);
    assert_eq!(logout.send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(me(1).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let refresh = group.post(1, "/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn of_100_concurrent_right_codes_over_every_instance_exactly_one_signs_in() {
    let group = Arc::new(spawn_instances(|_| {}).await);
    let address = unique_email();
    group.post(0, "/auth/send-otp", json!({ "email": address })).await;
    let code = group.code(&address);
    let tasks: Vec<_> = (0..100)
        .map(|n| {
            let (group, body) = (Arc::clone(&group), json!({ "email": address, "code": code }));
            tokio::spawn(async move { group.post(n, "/auth/verify-otp", body).await.status() })
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
async fn of_200_concurrent_wrong_guesses_over_every_instance_at_most_five_are_evaluated() {
    // Past OTP_MAX_FAILURES_PER_DAY (100) checks a day from clients without a remembered
    // device, the address is locked (otp_locked), which security::guessing covers.
    let group = Arc::new(spawn_instances(|_| {}).await);
    let address = unique_email();
    group.post(1, "/auth/send-otp", json!({ "email": address })).await;
    let right = group.code(&address);
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let guess = format!("{:06}", (right.parse::<u32>().unwrap() + 1 + n) % 1_000_000);
            let (group, body) = (Arc::clone(&group), json!({ "email": address, "code": guess }));
            tokio::spawn(async move {
                let response = group.post(n as usize, "/auth/verify-otp", body).await;
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
    let answers = ["otp_invalid", "otp_attempts_exceeded", "otp_locked"];
    assert!(codes.iter().all(|code| answers.contains(&code.as_str())), "{codes:?}");
    let response = group.post(0, "/auth/verify-otp", json!({ "email": address, "code": right })).await;
    let body: Value = response.json().await.unwrap();
    assert!(["otp_attempts_exceeded", "otp_locked"].contains(&body["code"].as_str().unwrap()), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_ip_limit_on_send_otp_counts_requests_to_every_instance() {
    let group = spawn_instances(|settings| settings.rate_limit_per_ip = 5).await;
    let mut accepted = 0;
    let mut limited = 0;
    for n in 0..12 {
        match group.post(n, "/auth/send-otp", json!({ "email": unique_email() })).await.status() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((accepted, limited), (5, 7));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_rotated_on_one_instance_is_reuse_on_another() {
    let group = spawn_instances(|_| {}).await;
    let address = unique_email();
    group.post(0, "/auth/send-otp", json!({ "email": address })).await;
    let tokens: Value = group
        .post(0, "/auth/verify-otp", json!({ "email": address, "code": group.code(&address) }))
        .await
        .json()
        .await
        .unwrap();
    let rotated = group.post(0, "/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let reuse = group.post(1, "/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    let latest = group.post(1, "/auth/refresh", json!({ "refresh_token": rotated["refresh_token"] })).await;
    assert_eq!(latest.status(), StatusCode::UNAUTHORIZED, "reuse ended the whole session");
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_reports_the_database_and_redis() {
    let group = spawn_instances(|_| {}).await;
    let ready: Value =
        group.client.get(format!("{}/ready", group.instances[0])).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(
        (ready["checks"]["database"].as_str(), ready["checks"]["redis"].as_str()),
        (Some("ok"), Some("ok"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_signing_key_rotation_never_refuses_a_token_on_any_instance() {
    let (old, new) = (SigningKey::generate().unwrap(), SigningKey::generate().unwrap());
    let (old_secret, new_secret) = (old.to_paserk(), new.to_paserk());
    let (old_public, new_public) = (old.verifying_key().to_paserk(), new.verifying_key().to_paserk());
    let mut group =
        spawn_instances(|settings| settings.token_signing_key = Some(old_secret.clone().into())).await;
    let mut tokens = Vec::new();
    for index in 0..INSTANCES {
        tokens.push(group.access_token_from(index).await);
    }
    // Operations' steps 2 and 3, one instance at a time: announce the new key, then
    // sign with it. After every single restart, every token minted so far (by any
    // instance, with either key) is accepted by every instance, and so are new ones.
    let steps: [(&str, &str); 2] = [(&old_secret, &new_public), (&new_secret, &old_public)];
    for (signing, previous) in steps {
        for index in 0..INSTANCES {
            group
                .restart(index, |settings| {
                    settings.token_signing_key = Some(signing.to_owned().into());
                    settings.token_previous_public_keys = previous.to_owned();
                })
                .await;
            for minter in 0..INSTANCES {
                tokens.push(group.access_token_from(minter).await);
            }
            for token in &tokens {
                let statuses = group.me_everywhere(token).await;
                assert!(statuses.iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
            }
        }
    }
    // Step 4: the old key dropped everywhere; its tokens are refused by every instance.
    for index in 0..INSTANCES {
        group.restart(index, |settings| settings.token_signing_key = Some(new_secret.clone().into())).await;
    }
    let (first, latest) = (tokens.first().unwrap(), tokens.last().unwrap());
    assert!(group.me_everywhere(first).await.iter().all(|status| *status == StatusCode::UNAUTHORIZED));
    assert!(group.me_everywhere(latest).await.iter().all(|status| *status == StatusCode::OK));
}
