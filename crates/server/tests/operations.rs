//! Operations through the real binary: rotating the token signing key, and a SIGTERM in
//! the middle of a burst of requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
use otp_test_support::TestDatabase;
use process::{command, get_json, newest_code, post, start, stop, wait_stopped};

/// A key pair from `otp-server keygen`: the secret, the public key and its id.
struct KeyPair {
    secret: String,
    public: String,
    kid: String,
}

fn keygen() -> KeyPair {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).arg("keygen").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let secret = text.lines().find_map(|line| line.strip_prefix("TOKEN_SIGNING_KEY=")).unwrap().to_owned();
    let public = text.lines().find_map(|line| line.strip_prefix("# k4.public.")).unwrap();
    let kid = text.lines().find_map(|line| line.split("(k4.pid.").nth(1)).unwrap();
    KeyPair {
        secret,
        public: format!("k4.public.{public}"),
        kid: format!("k4.pid.{}", kid.split(')').next().unwrap()),
    }
}

/// The `kid` in a PASETO token's footer.
fn kid_of(token: &str) -> String {
    let footer = token.rsplit('.').next().unwrap();
    let footer = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(footer).unwrap();
    serde_json::from_slice::<Value>(&footer).unwrap()["kid"].as_str().unwrap().to_owned()
}

async fn sign_in(client: &reqwest::Client, base: &str, mail_dir: &std::path::Path, address: &str) -> String {
    assert_eq!(post(client, format!("{base}/send-otp"), json!({ "email": address })).await.0, 202);
    let code = newest_code(mail_dir);
    let (status, tokens) =
        post(client, format!("{base}/verify-otp"), json!({ "email": address, "code": code })).await;
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn me(client: &reqwest::Client, base: &str, token: &str) -> u16 {
    client.get(format!("{base}/me")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_signing_key_keeps_old_tokens_valid_while_new_ones_use_the_new_key() {
    let database = TestDatabase::reserved().await;
    let (old, new) = (keygen(), keygen());
    let secret_key = "a".repeat(64);
    let mail = tempfile::tempdir().unwrap();
    let mail_dir = mail.path().to_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    let base_env = [
        ("DATABASE_URL", database.url()),
        ("SECRET_KEY", secret_key.as_str()),
        ("MAIL_DIR", mail_dir.as_str()),
    ];

    let before = start(&[&base_env[..], &[("TOKEN_SIGNING_KEY", old.secret.as_str())]].concat());
    let old_token =
        sign_in(&client, &format!("{}/auth", before.address), mail.path(), "ann@example.com").await;
    assert_eq!(kid_of(&old_token), old.kid);
    stop(before);

    // The new key signs; the old one is kept for verification only.
    let rotated = [
        &base_env[..],
        &[("TOKEN_SIGNING_KEY", new.secret.as_str()), ("TOKEN_PREVIOUS_PUBLIC_KEYS", old.public.as_str())],
    ]
    .concat();
    let after = start(&rotated);
    let base = format!("{}/auth", after.address);
    assert_eq!(me(&client, &base, &old_token).await, 200, "a token of the previous key still verifies");
    let new_token = sign_in(&client, &base, mail.path(), "bob@example.com").await;
    assert_eq!(kid_of(&new_token), new.kid, "new tokens carry the new key id");
    assert_eq!(me(&client, &base, &new_token).await, 200);
    let keys: Value = client.get(format!("{base}/keys")).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> =
        keys["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [new.kid.as_str(), old.kid.as_str()], "the current key first, then the previous");
    stop(after);

    // Once the previous key is dropped (after its tokens have expired), they are refused.
    let dropped = start(&[&base_env[..], &[("TOKEN_SIGNING_KEY", new.secret.as_str())]].concat());
    let base = format!("{}/auth", dropped.address);
    assert_eq!(me(&client, &base, &old_token).await, 401);
    assert_eq!(me(&client, &base, &new_token).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_burst_answers_every_accepted_request_and_exits_cleanly() {
    // Every log-in may wait for an Argon2 worker, so none is answered at once: a
    // connection the server has not yet accepted when the signal closes the listener
    // could not be told from an accepted request that lost its answer.
    let server = start(&[
        ("RATE_LIMIT_PER_IP", "1000"),
        ("RATE_LIMIT_PER_EMAIL", "1000"),
        ("PASSWORD_HASH_QUEUE", "64"),
    ]);
    let base = format!("{}/auth", server.address);
    // Password log-ins are slow (Argon2, two at a time): most are still waiting for a
    // worker when the signal arrives, after every connection has been accepted.
    let requests: Vec<_> = (0..40)
        .map(|n| {
            let base = base.clone();
            tokio::spawn(async move {
                // A fresh connection each: no request rides an idle keep-alive connection.
                let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
                let body =
                    json!({ "email": format!("user{n}@example.com"), "password": "correct horse battery" });
                client.post(format!("{base}/login")).json(&body).send().await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());

    let (mut answered, mut refused) = (0, 0);
    for request in requests {
        match request.await.unwrap() {
            Ok(response) => {
                // A complete answer: status and a whole JSON body.
                // Unknown accounts are refused; beyond the Argon2 queue (PASSWORD_HASH_QUEUE)
                // a log-in is turned away at once, as under any burst.
                let status = response.status().as_u16();
                let body: Value = response.json().await.expect("a complete body");
                match status {
                    401 => assert_eq!(body["code"], "invalid_credentials"),
                    503 => assert_eq!(body["code"], "server_busy"),
                    other => panic!("unexpected status {other}: {body}"),
                }
                answered += 1;
            }
            // Not accepted: the listener was already closed.
            Err(error) if error.is_connect() => refused += 1,
            Err(error) => panic!("an accepted request lost its answer: {error:?}"),
        }
    }
    assert!(answered > 0, "some requests were in flight at the signal");
    let log = wait_stopped(server);
    assert!(answered + refused == 40, "{answered} answered, {refused} refused");
    assert!(log.iter().any(|line| line.contains("\"stopped\"")), "the stop is logged ({} lines)", log.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_log_line_of_a_request_carries_its_request_id_and_client_errors_are_not_warnings() {
    let server = start(&[("RUST_LOG", "info")]);
    let base = format!("{}/auth", server.address);
    let client = reqwest::Client::new();
    assert_eq!(post(&client, format!("{base}/send-otp"), json!({ "email": "ann@example.com" })).await.0, 202);
    let wrong = json!({ "email": "ann@example.com", "password": "not the password" });
    assert_eq!(post(&client, format!("{base}/login"), wrong).await.0, 401);
    let log = stop(server);

    let lines: Vec<Value> = log.iter().map(|line| serde_json::from_str(line).expect("JSON lines")).collect();
    // The use cases log inside requests; the delivery worker runs beside them.
    let in_requests: Vec<&Value> = lines
        .iter()
        .filter(|line| line["target"].as_str().is_some_and(|t| t.starts_with("otp_core::service")))
        .collect();
    assert!(
        in_requests.iter().any(|line| line["fields"]["message"] == "mail accepted for delivery"),
        "the service logged inside the request: {lines:?}"
    );
    for line in &in_requests {
        let spans = line["spans"].as_array().map(Vec::as_slice).unwrap_or_default();
        let id = spans.iter().find_map(|span| span["request_id"].as_str()).unwrap_or_default();
        assert_eq!(id.len(), 36, "a request id on {line}");
    }
    let warnings: Vec<&Value> = lines.iter().filter(|line| line["level"] == "WARN").collect();
    assert!(warnings.is_empty(), "a refused log-in is not a warning: {warnings:?}");
}

/// A session id is what a forged refresh token names: it stays out of the INFO log, the
/// request log's path included, through sign-in, refresh and ending the session by id.
#[tokio::test(flavor = "multi_thread")]
async fn session_ids_are_not_logged_at_info() {
    let server = start(&[("RUST_LOG", "info")]);
    let base = format!("{}/auth", server.address);
    let client = reqwest::Client::new();
    let address = "ann@example.com";
    assert_eq!(post(&client, format!("{base}/send-otp"), json!({ "email": address })).await.0, 202);
    let code = newest_code(&server.mail_dir);
    let (status, tokens) =
        post(&client, format!("{base}/verify-otp"), json!({ "email": address, "code": code })).await;
    assert_eq!(status, 200, "{tokens}");
    let (status, tokens) =
        post(&client, format!("{base}/refresh"), json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let listed = get_json(&client, format!("{base}/sessions"), access).await;
    let id = listed["sessions"][0]["id"].as_str().unwrap().to_owned();
    let ended = client.delete(format!("{base}/sessions/{id}")).bearer_auth(access).send().await.unwrap();
    assert_eq!(ended.status().as_u16(), 204);
    let log = stop(server);

    let simple = id.replace('-', "");
    assert!(log.iter().any(|line| line.contains("session ended by its owner")), "{log:?}");
    for line in &log {
        assert!(!line.contains(&id) && !line.contains(&simple), "a session id was logged: {line}");
    }
}
