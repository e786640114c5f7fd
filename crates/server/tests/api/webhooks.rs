//! Auth events delivered to a webhook receiver the test starts: signed per Standard
//! Webhooks (checked here with our own HMAC, not the server's signer), each event once
//! by id, one account's events in order, and nothing lost while the receiver is down.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, PASSWORD, TestApp, spawn_app_with, token, unique_email};

/// A 32-byte key in the `whsec_` form.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=";

/// One request the receiver accepted.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    event_type: String,
    user_id: String,
    body: Value,
    /// The request as it came: its three webhook headers and its body.
    headers: Vec<(String, String)>,
    raw: String,
}

/// What the receiver keeps: the requests it accepted, and how many it refused.
type Log = (Arc<Mutex<Vec<Received>>>, Arc<Mutex<u32>>);

/// A webhook endpoint on a fixed port that verifies each request as a receiver must
/// (answering 401 to a bad signature), can be stopped and started again.
struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<u32>>,
    handle: Option<ServerHandle>,
}

/// Checks the three headers the way the Standard Webhooks libraries do: the HMAC-SHA256
/// of `id.timestamp.body` under the base64 key after `whsec_`, and a fresh timestamp.
fn verify(request: &HttpRequest, body: &[u8]) -> Option<String> {
    let header = |name: &str| request.headers().get(name)?.to_str().ok().map(str::to_owned);
    let (id, timestamp, signatures) =
        (header("webhook-id")?, header("webhook-timestamp")?, header("webhook-signature")?);
    let sent: i64 = timestamp.parse().ok()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if (now - sent).abs() > 300 {
        return None;
    }
    let key = STANDARD.decode(SECRET.strip_prefix("whsec_")?).ok()?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|signature| signature == expected).then_some(id)
}

async fn endpoint(request: HttpRequest, body: web::Bytes, state: web::Data<Log>) -> HttpResponse {
    let (received, refused) = state.get_ref();
    let Some(id) = verify(&request, &body) else {
        *refused.lock().unwrap() += 1;
        return HttpResponse::Unauthorized().finish();
    };
    let raw = String::from_utf8(body.to_vec()).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(request.headers().get("content-type").unwrap(), "application/json");
    let headers = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .map(|name| (name.to_owned(), request.headers().get(name).unwrap().to_str().unwrap().to_owned()))
        .to_vec();
    let event = Received {
        headers,
        raw,
        id,
        event_type: body["type"].as_str().unwrap().to_owned(),
        user_id: body["data"]["user_id"].as_str().unwrap().to_owned(),
        body,
    };
    received.lock().unwrap().push(event);
    HttpResponse::NoContent().finish()
}

impl Receiver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut receiver = Self { port, received: Arc::default(), refused: Arc::default(), handle: None };
        receiver.resume();
        receiver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    /// Listens again on the same port.
    fn resume(&mut self) {
        let state: web::Data<Log> = web::Data::new((self.received.clone(), self.refused.clone()));
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        let server = HttpServer::new(move || {
            App::new().app_data(state.clone()).route("/hooks", web::post().to(endpoint))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        self.handle = Some(server.handle());
        tokio::spawn(server);
    }

    /// Stops listening: connections are refused until [`Receiver::resume`].
    async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(false).await;
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` events of `users` arrived (or fails after `within`).
    async fn wait_for(&self, users: &[&str], count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let mine: Vec<Received> =
                self.received().into_iter().filter(|event| users.contains(&event.user_id.as_str())).collect();
            if mine.len() >= count || Instant::now() > deadline {
                return mine;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Webhooks to `url`, retried every 2 s at most.
fn deliver_to(settings: &mut otp_server::Settings, url: String) {
    settings.webhook_urls = url;
    settings.webhook_secret = Some(SECRET.into());
    settings.webhook_retry_max_seconds = 2;
    settings.webhook_max_attempts = 1000;
}

async fn app_for(receiver: &Receiver, admin_email: Option<&str>) -> TestApp {
    let url = receiver.url();
    let admin_email = admin_email.map(str::to_owned);
    spawn_app_with(move |settings| {
        deliver_to(settings, url);
        settings.admin_email = admin_email;
    })
    .await
}

/// Verifies `event` as it was delivered with the reference verifier of the Standard
/// Webhooks project (PyPI `standardwebhooks`, installed with the test tools), the way a
/// Python receiver would; also checks that it refuses the request with one byte changed.
fn verify_in_python(event: &Received) {
    let python = std::env::var("OTP_TEST_SMTP_PYTHON").expect(
        "OTP_TEST_SMTP_PYTHON is not set: run the tests with cargo nextest (its setup script \
         scripts/smtp-tools.sh installs a Python with standardwebhooks)",
    );
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
secret, body, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print(Webhook(secret).verify(body, headers)["type"])
try:
    Webhook(secret).verify(body.replace("user", "usex", 1), headers)
    print("tampered body accepted")
except WebhookVerificationError:
    print("tampered body refused")
"#;
    let headers: serde_json::Map<String, Value> =
        event.headers.iter().map(|(name, value)| (name.clone(), Value::from(value.clone()))).collect();
    let output = std::process::Command::new(python)
        .args(["-c", script, SECRET, &event.raw, &Value::Object(headers).to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), [event.event_type.as_str(), "tampered body refused"]);
}

fn types_of(events: &[Received], user: &str) -> Vec<String> {
    events.iter().filter(|event| event.user_id == user).map(|event| event.event_type.clone()).collect()
}

fn assert_each_once(events: &[Received]) {
    let ids: HashSet<&str> = events.iter().map(|event| event.id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "an event arrived twice: {events:#?}");
    for event in events {
        assert_eq!(event.body["data"]["id"], event.id, "the body names the webhook-id");
    }
}

/// Registers, logs in, resets the password and logs out; returns the user id and the
/// events that makes, in order.
async fn a_short_account_life(app: &TestApp, address: &str) -> (String, Vec<&'static str>) {
    let registered = app.register_verified(address).await;
    let user_id = registered["user"]["id"].as_str().unwrap().to_owned();
    let logged_in: Value = app.login(address, PASSWORD).await.json().await.unwrap();
    app.wait_out_cooldown();
    let forgot = app.post("/auth/password/forgot", &json!({ "email": address })).await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);
    let code = app.last_code(address);
    let body = json!({ "email": address, "code": code, "new_password": "a brand new password" });
    assert_eq!(app.post("/auth/password/reset", &body).await.status(), StatusCode::OK);
    let signed_in: Value = app.login(address, "a brand new password").await.json().await.unwrap();
    let logout = app.post_with_token("/auth/logout", &token(&signed_in, "access_token")).await;
    assert!(logout.status().is_success(), "{}", logout.status());
    let _ = logged_in;
    let events = vec![
        "user.created",
        "user.signed_in",
        "user.signed_in",
        "password.changed",
        "user.signed_in",
        "user.signed_out",
    ];
    (user_id, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_gets_every_event_signed_once_and_in_order() {
    let receiver = Receiver::start();
    let admin = format!("root-{}@example.com", uuid::Uuid::new_v4().simple());
    let app = app_for(&receiver, Some(&admin)).await;
    let address = unique_email();
    let (user_id, mut expected) = a_short_account_life(&app, &address).await;

    let admin_token = token(&app.sign_in(&admin).await, "access_token");
    let revoke = app.client.post(app.url(&format!("/admin/users/{user_id}/sessions/revoke")));
    assert!(revoke.bearer_auth(&admin_token).send().await.unwrap().status().is_success());
    expected.push("session.revoked");
    let deleted = app.client.delete(app.url(&format!("/admin/users/{user_id}"))).bearer_auth(&admin_token);
    assert!(deleted.send().await.unwrap().status().is_success());
    expected.push("user.deleted");

    let events = receiver.wait_for(&[&user_id], expected.len(), Duration::from_secs(20)).await;
    assert_eq!(types_of(&events, &user_id), expected);
    assert_each_once(&events);
    assert_eq!(*receiver.refused.lock().unwrap(), 0, "every signature verified");
    verify_in_python(&events[0]);
    // Ids and method names only: no address, code, password or token anywhere.
    let created = &events[0].body;
    assert_eq!(created["data"]["method"], "pwd");
    assert_eq!(events[1].body["data"]["method"], "otp", "the registration's code sign-in");
    let revoked = &events[expected.len() - 2].body["data"];
    assert_eq!((&revoked["revoked_by"], revoked.get("session_id")), (&json!("admin"), None));
    let all = serde_json::to_string(&events.iter().map(|event| &event.body).collect::<Vec<_>>()).unwrap();
    assert!(!all.contains(&address) && !all.contains("brand new") && !all.contains(PASSWORD), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_made_while_the_receiver_is_down_all_arrive_once_in_order_afterwards() {
    let mut receiver = Receiver::start();
    let app = app_for(&receiver, None).await;
    // One event delivered, so the outage starts from a working endpoint.
    let first = app.sign_in(&unique_email()).await;
    let first_id = first["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(receiver.wait_for(&[&first_id], 2, Duration::from_secs(20)).await.len(), 2);

    receiver.stop().await;
    let started = Instant::now();
    let (ann, bob) = (unique_email(), unique_email());
    let (ann_id, ann_events) = a_short_account_life(&app, &ann).await;
    let (bob_id, bob_events) = a_short_account_life(&app, &bob).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "sign-in slowed by the outage: {:?}",
        started.elapsed()
    );
    // PostgreSQL: a real minute down, as operators see it; in memory a few seconds show
    // the same rule.
    let outage =
        if crate::BACKEND == Backend::Memory { Duration::from_secs(4) } else { Duration::from_secs(60) };
    tokio::time::sleep(outage.saturating_sub(started.elapsed())).await;
    assert!(receiver.wait_for(&[&ann_id, &bob_id], 1, Duration::ZERO).await.is_empty());

    receiver.resume();
    let total = ann_events.len() + bob_events.len();
    let events = receiver.wait_for(&[&ann_id, &bob_id], total, Duration::from_secs(30)).await;
    assert_eq!(types_of(&events, &ann_id), ann_events);
    assert_eq!(types_of(&events, &bob_id), bob_events);
    assert_each_once(&receiver.received());
    // Nothing more comes later (no duplicate from a retry).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_each_once(&receiver.received());
    let by_user: HashMap<&str, usize> = events.iter().fold(HashMap::new(), |mut counts, event| {
        *counts.entry(event.user_id.as_str()).or_default() += 1;
        counts
    });
    assert_eq!(by_user.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_sign_in_and_a_session_ended_elsewhere_make_their_events() {
    let receiver = Receiver::start();
    let url = receiver.url();
    let oauth = crate::oauth::spawn_with_providers(move |settings| deliver_to(settings, url)).await;
    let person = otp_oauth::testing::FakePerson::random(unique_email());
    let first = oauth.signed_in("google", &person).await;
    let user_id = first["user"]["id"].as_str().unwrap().to_owned();
    let second = oauth.signed_in("google", &person).await;
    let second_access = token(&second, "access_token");
    let listed: Value =
        oauth.app.get_with_token("/auth/sessions", &second_access).await.json().await.unwrap();
    let sessions = listed["sessions"].as_array().unwrap();
    let other = sessions.iter().find(|session| session["current"] == false).unwrap()["id"].as_str().unwrap();
    let ended = oauth.app.delete_with_token(&format!("/auth/sessions/{other}"), &second_access).await;
    assert!(ended.status().is_success(), "{}", ended.status());

    let expected = ["user.created", "identity.linked", "user.signed_in", "user.signed_in", "session.revoked"];
    let events = receiver.wait_for(&[&user_id], expected.len(), Duration::from_secs(20)).await;
    assert_eq!(types_of(&events, &user_id), expected);
    assert_each_once(&events);
    assert_eq!(events[0].body["data"]["method"], "oauth:google");
    assert_eq!(events[1].body["data"]["provider"], "google");
    assert_eq!(events[2].body["data"]["method"], "oauth:google");
    assert_eq!(events[4].body["data"]["session_id"], other);
    assert_eq!(events[4].body["data"]["revoked_by"], "user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_own_changes_make_their_events() {
    let receiver = Receiver::start();
    let app = app_for(&receiver, None).await;
    let (address, new_address) = (unique_email(), unique_email());
    let registered = app.register_verified(&address).await;
    let user_id = registered["user"]["id"].as_str().unwrap().to_owned();
    let access = token(&registered, "access_token");
    let post =
        |path: &str, body: Value| app.client.post(app.url(path)).bearer_auth(&access).json(&body).send();

    let new_password = "a brand new password";
    let change = json!({ "current_password": PASSWORD, "new_password": new_password });
    assert_eq!(post("/auth/password/change", change).await.unwrap().status(), StatusCode::OK);
    let start = json!({ "new_email": new_address, "password": new_password });
    assert_eq!(post("/auth/email/change", start).await.unwrap().status(), StatusCode::ACCEPTED);
    let confirm = json!({ "new_email": new_address, "code": app.last_code(&new_address) });
    assert_eq!(post("/auth/email/change/confirm", confirm).await.unwrap().status(), StatusCode::OK);
    let delete = app.client.delete(app.url("/auth/me")).bearer_auth(&access);
    let deleted = delete.json(&json!({ "password": new_password })).send().await.unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());

    let expected = ["user.created", "user.signed_in", "password.changed", "email.changed", "user.deleted"];
    let events = receiver.wait_for(&[&user_id], expected.len(), Duration::from_secs(20)).await;
    assert_eq!(types_of(&events, &user_id), expected);
    assert_each_once(&events);
    assert_eq!(*receiver.refused.lock().unwrap(), 0, "every signature verified");
    let all = serde_json::to_string(&events.iter().map(|event| &event.body).collect::<Vec<_>>()).unwrap();
    assert!(!all.contains(&address) && !all.contains(&new_address), "no address in any event: {all}");
}
