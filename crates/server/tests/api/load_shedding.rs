//! Under load the server refuses quickly and alike for every address: 503 `server_busy`
//! beyond the password-hashing queue, 503 `mail_backlog` when a new code could not be
//! mailed before it expires.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::domain::MailMessage;
use otp_core::ports::Mailer;
use otp_memory::RecordingMailer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app_with, spawn_app_with_transport, unique_email};

/// One answer: status, `Retry-After`, body, and how long it took.
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: Value,
    took: Duration,
}

async fn answer(response: reqwest::Response, started: Instant) -> Answer {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, retry_after, body, took: started.elapsed() }
}

async fn timed_post(app: &TestApp, path: &str, body: &Value) -> Answer {
    let started = Instant::now();
    let response = app.post(path, body).await;
    answer(response, started).await
}

#[tokio::test]
async fn a_log_in_burst_beyond_the_hash_queue_gets_quick_identical_503s_and_the_rest_are_answered() {
    let app = Arc::new(
        spawn_app_with(|settings| {
            settings.argon2_max_concurrency = Some(1);
            settings.password_hash_queue = Some(1);
            settings.rate_limit_per_ip = 10_000;
            settings.rate_limit_per_email = 10_000;
        })
        .await,
    );
    let known = unique_email();
    app.register_verified(&known).await;
    let unknown = unique_email();
    let burst: Vec<_> = (0..24)
        .map(|index| {
            let app = app.clone();
            let address = if index % 2 == 0 { known.clone() } else { unknown.clone() };
            tokio::spawn(async move {
                let answer =
                    timed_post(&app, "/auth/login", &json!({ "email": address, "password": PASSWORD })).await;
                (address, answer)
            })
        })
        .collect();
    let mut busy_bodies = Vec::new();
    let mut answered = 0;
    for call in burst {
        let (address, answer) = call.await.unwrap();
        match answer.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer.body["code"], "server_busy", "{}", answer.body);
                assert_eq!(answer.retry_after, Some(1));
                assert!(answer.took < Duration::from_secs(2), "a refusal took {:?}", answer.took);
                busy_bodies.push((address == known, answer.body));
            }
            StatusCode::OK => {
                assert_eq!(address, known);
                answered += 1;
            }
            StatusCode::UNAUTHORIZED => {
                assert_eq!(address, unknown);
                answered += 1;
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert!(answered >= 2, "the running and the queued log-ins are answered ({answered})");
    let known_busy: Vec<_> = busy_bodies.iter().filter(|(known, _)| *known).map(|(_, body)| body).collect();
    let unknown_busy: Vec<_> =
        busy_bodies.iter().filter(|(known, _)| !*known).map(|(_, body)| body).collect();
    assert!(!known_busy.is_empty() && !unknown_busy.is_empty(), "both kinds of address were refused");
    for body in known_busy.iter().chain(&unknown_busy) {
        assert_eq!(*body, known_busy[0], "a refusal says nothing about the address");
    }
    // Once the burst is over, log-ins work again.
    let after = app.login(&known, PASSWORD).await;
    assert_eq!(after.status(), StatusCode::OK);
}

/// Log-ins of unknown addresses from `tasks` clients, back to back until `stop` is set:
/// each spends one Argon2 verification, so a hasher of one worker and no queue is busy
/// nearly all the time.
fn flood_log_ins(
    app: &Arc<TestApp>,
    tasks: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..tasks)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    app.login(&unique_email(), PASSWORD).await;
                }
            })
        })
        .collect()
}

#[tokio::test]
async fn a_password_reset_refused_as_busy_leaves_its_code_usable() {
    let app = Arc::new(
        spawn_app_with(|settings| {
            settings.argon2_max_concurrency = Some(1);
            settings.password_hash_queue = Some(0);
            settings.rate_limit_per_ip = 100_000;
            settings.rate_limit_per_email = 100_000;
            settings.otp_resend_cooldown_seconds = 0;
        })
        .await,
    );
    let address = unique_email();
    app.register_verified(&address).await;
    let stop = Arc::new(AtomicBool::new(false));
    let flood = flood_log_ins(&app, 6, &stop);
    // Resets with a fresh code each, while log-ins keep the only worker busy. A reset
    // refused as busy is tried again with the same code until it goes through: the
    // refusal must have left the code good, wherever in the reset it came.
    let (mut refusals, mut resets) = (0, 0);
    let started = Instant::now();
    while refusals < 40 && resets < 30 && started.elapsed() < Duration::from_secs(15) {
        let forgot = app.post("/auth/password/forgot", &json!({ "email": address })).await;
        assert_eq!(forgot.status(), StatusCode::ACCEPTED);
        let code = app.last_code(&address);
        let new_password = format!("plum kettle harbour {resets}");
        let reset = json!({ "email": address, "code": code, "new_password": new_password });
        loop {
            let answer = timed_post(&app, "/auth/password/reset", &reset).await;
            match answer.status {
                StatusCode::OK => break,
                StatusCode::SERVICE_UNAVAILABLE => {
                    assert_eq!(answer.body["code"], "server_busy", "{}", answer.body);
                    assert!(answer.retry_after.is_some());
                    refusals += 1;
                    if started.elapsed() > Duration::from_secs(15) {
                        // A slow machine: end the flood, so that the retry gets through.
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                other => panic!("after {refusals} refusals, {other}: {}", answer.body),
            }
        }
        resets += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for task in flood {
        task.await.unwrap();
    }
    assert!(refusals > 0, "no reset was refused while log-ins kept the only worker busy");
    let last = format!("plum kettle harbour {}", resets - 1);
    assert_eq!(app.login(&address, &last).await.status(), StatusCode::OK);
}

/// A transport that takes `delay` per message, then records it; while `stalled` is set
/// it sends nothing.
#[derive(Debug)]
struct SlowTransport {
    inner: Arc<RecordingMailer>,
    delay: Duration,
    stalled: Arc<AtomicBool>,
}

impl SlowTransport {
    fn new(inner: Arc<RecordingMailer>, delay: Duration) -> Self {
        Self { inner, delay, stalled: Arc::default() }
    }
}

#[async_trait]
impl Mailer for SlowTransport {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        while self.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(self.delay).await;
        self.inner.send(message).await
    }
}

async fn slow_mail_app(stalled: Arc<AtomicBool>) -> TestApp {
    spawn_app_with_transport(
        |settings| {
            settings.mail_workers = Some(1);
            settings.otp_expire_seconds = 2;
            settings.rate_limit_per_ip = 10_000;
            settings.rate_limit_per_email = 10_000;
        },
        move |recording| {
            let mut transport = SlowTransport::new(recording, Duration::from_millis(50));
            transport.stalled = stalled;
            Arc::new(transport)
        },
    )
    .await
}

async fn wait_for_code(app: &TestApp, address: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = app.mailer.last_code_for(&crate::helpers::email(address)) {
            return code;
        }
        assert!(Instant::now() < deadline, "no code reached {address}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn send_otp_answers_503_mail_backlog_alike_for_every_address_while_mail_is_backed_up() {
    let stalled = Arc::new(AtomicBool::new(false));
    let app = slow_mail_app(stalled.clone()).await;
    // An account, signed in once through the slow transport (which measures its rate).
    let known = unique_email();
    assert_eq!(app.send_otp(&known).await.status(), StatusCode::ACCEPTED);
    let code = wait_for_code(&app, &known).await;
    assert_eq!(app.verify_otp(&known, &code).await.status(), StatusCode::OK);

    // One worker at 50 ms a message sends 20 a second; a 2 s code must reach its
    // owner within 1 s, so about 20 queued mails are the most accepted. The mail
    // server stalls meanwhile, so the backlog stays while the answers are compared.
    stalled.store(true, Ordering::SeqCst);
    let mut accepted = 0;
    let refused = loop {
        let answer = timed_post(&app, "/auth/send-otp", &json!({ "email": unique_email() })).await;
        match answer.status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => break answer,
            other => panic!("unexpected {other}: {}", answer.body),
        }
        assert!(accepted < 200, "the backlog was never refused");
    };
    // About 20 (fewer on a loaded machine, where the measured send time grows).
    assert!((3..=25).contains(&accepted), "{accepted} accepted before the first refusal");
    assert_eq!(refused.body["code"], "mail_backlog", "{}", refused.body);
    assert!(refused.retry_after.is_some_and(|wait| (1..=5).contains(&wait)), "{:?}", refused.retry_after);

    // The same answer for the account holder and for a stranger.
    let for_known = timed_post(&app, "/auth/send-otp", &json!({ "email": known })).await;
    let for_stranger = timed_post(&app, "/auth/send-otp", &json!({ "email": unique_email() })).await;
    for answer in [&for_known, &for_stranger] {
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.body, refused.body);
        assert!(answer.retry_after.is_some());
    }
    assert!(for_known.retry_after.unwrap().abs_diff(for_stranger.retry_after.unwrap()) <= 1);
    stalled.store(false, Ordering::SeqCst);

    // When the backlog has drained, codes are accepted again and arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    let later = unique_email();
    loop {
        let status = app.send_otp(&later).await.status();
        if status == StatusCode::ACCEPTED {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "still refused after the backlog should have drained");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_code(&app, &later).await;
}

async fn send_otp_from(app: &TestApp, client_ip: &str, address: &str) -> Answer {
    let started = Instant::now();
    let response = app
        .client
        .post(app.url("/auth/send-otp"))
        .header("x-forwarded-for", client_ip)
        .json(&json!({ "email": address }))
        .send()
        .await
        .unwrap();
    answer(response, started).await
}

#[tokio::test]
async fn one_clients_flood_is_capped_so_another_clients_code_arrives_within_seconds() {
    let app = spawn_app_with_transport(
        |settings| {
            settings.mail_workers = Some(1);
            settings.mail_queue_per_client = 5;
            settings.trusted_proxies = "127.0.0.1".into();
            settings.rate_limit_per_ip = 10_000;
            settings.rate_limit_per_email = 10_000;
        },
        |recording| Arc::new(SlowTransport::new(recording, Duration::from_millis(200))),
    )
    .await;
    // The flooding client gets its five mails queued, then 503 mail_backlog, whatever
    // the address.
    let mut accepted = 0;
    let refused = loop {
        let answer = send_otp_from(&app, "203.0.113.1", &unique_email()).await;
        match answer.status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => break answer,
            other => panic!("unexpected {other}: {}", answer.body),
        }
        assert!(accepted <= 5, "the flood was not capped");
    };
    assert_eq!(accepted, 5);
    assert_eq!(refused.body["code"], "mail_backlog");
    assert!(refused.retry_after.is_some());
    // Another client is not held up: its code goes out after at most the flood's five.
    let other = unique_email();
    let started = Instant::now();
    assert_eq!(send_otp_from(&app, "198.51.100.7", &other).await.status, StatusCode::ACCEPTED);
    wait_for_code(&app, &other).await;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    // Once its mail has gone out, the flooding client may ask again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while send_otp_from(&app, "203.0.113.1", &unique_email()).await.status != StatusCode::ACCEPTED {
        assert!(Instant::now() < deadline, "the flooding client stayed refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
