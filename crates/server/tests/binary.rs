//! Runs the real `otp-server` binary on its embedded default, as the README does,
//! and drives it the way a script would: codes are read from the newest `.eml`
//! file in the mail folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
use otp_test_support::{TestDatabase, TestRedis};
use process::{Server, command, contains_number, generated_keys, get_json, newest_code, post, start, stop};

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_default_serves_every_flow_with_codes_from_the_mail_folder() {
    let server = start(&[]);
    let base = format!("{}/auth", server.address);
    let client = reqwest::Client::new();

    // Passwordless: send, read the newest mail file, verify, me, logout, me refused.
    let (status, _) = post(&client, format!("{base}/send-otp"), json!({ "email": "ann@example.com" })).await;
    assert_eq!(status, 202);
    let mut codes = vec![newest_code(&server.mail_dir)];
    let code = codes[0].clone();
    let (status, tokens) =
        post(&client, format!("{base}/verify-otp"), json!({ "email": "ann@example.com", "code": code }))
            .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let me = client.get(format!("{base}/me")).bearer_auth(access).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let logout = client.post(format!("{base}/logout")).bearer_auth(access).send().await.unwrap();
    assert_eq!(logout.status(), 200);
    let me = client.get(format!("{base}/me")).bearer_auth(access).send().await.unwrap();
    assert_eq!(me.status(), 401);

    // Register, verify, login, refresh, sessions, password reset.
    let credentials = json!({ "email": "bob@example.com", "password": "correct horse battery" });
    assert_eq!(post(&client, format!("{base}/register"), credentials.clone()).await.0, 202);
    let code = newest_code(&server.mail_dir);
    codes.push(code.clone());
    let (status, _) =
        post(&client, format!("{base}/verify-otp"), json!({ "email": "bob@example.com", "code": code }))
            .await;
    assert_eq!(status, 200);
    let (status, login) = post(&client, format!("{base}/login"), credentials).await;
    assert_eq!(status, 200, "{login}");
    let (status, refreshed) =
        post(&client, format!("{base}/refresh"), json!({ "refresh_token": login["refresh_token"] })).await;
    assert_eq!(status, 200, "{refreshed}");
    let sessions =
        get_json(&client, format!("{base}/sessions"), refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        post(&client, format!("{base}/password/forgot"), json!({ "email": "bob@example.com" })).await.0,
        202
    );
    let code = newest_code(&server.mail_dir);
    codes.push(code.clone());
    let reset = json!({ "email": "bob@example.com", "code": code, "new_password": "a new password here" });
    assert_eq!(post(&client, format!("{base}/password/reset"), reset).await.0, 200);
    let me = client
        .get(format!("{base}/me"))
        .bearer_auth(refreshed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "a reset ends every session");

    // One log line per message names its file and never carries a code.
    let mut lines = Vec::new();
    while lines.iter().filter(|line: &&String| line.contains("mail written")).count() < 3 {
        match server.log.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => lines.push(line),
            Err(_) => panic!("expected three \"mail written\" lines: {lines:#?}"),
        }
    }
    lines.extend(server.log.try_iter());
    for line in &lines {
        for code in &codes {
            assert!(!contains_number(line, code), "a log line carries a code: {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = start(&[]);
    let health = reqwest::get(format!("{}/health", server.address)).await.unwrap();
    assert_eq!(health.status(), 200);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait().unwrap();
        drop(server);
        status
    })
    .await
    .unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn production_refuses_to_start_on_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).env("APP_ENV", "production").env("PORT", "0").output().unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("TOKEN_SIGNING_KEY"), "{stderr}");
}

#[test]
fn a_half_configured_sign_in_provider_stops_start_up_naming_the_missing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path())
        .env("PORT", "0")
        .env("GOOGLE_CLIENT_ID", "1234567890-abc.apps.googleusercontent.com")
        .env("GOOGLE_CLIENT_SECRET", "google-secret-never-printed")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("GOOGLE_REDIRECT_URI"), "{stderr}");
    assert!(!stderr.contains("google-secret-never-printed"), "{stderr}");
}

#[tokio::test]
async fn sign_in_providers_are_configured_from_the_environment() {
    let server = start(&[
        ("GITHUB_CLIENT_ID", "Ov23liTest"),
        ("GITHUB_CLIENT_SECRET", "github-secret"),
        ("GITHUB_REDIRECT_URI", "http://127.0.0.1:8080/oauth/callback"),
    ]);
    let client = reqwest::Client::new();
    let listed: Value = client
        .get(format!("{}/auth/oauth/providers", server.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({ "providers": ["github"] }));
    let started: Value = client
        .get(format!("{}/auth/oauth/github/start", server.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auth_url = started["auth_url"].as_str().unwrap();
    assert!(auth_url.starts_with("https://github.com/login/oauth/authorize?"), "{auth_url}");
    assert!(auth_url.contains("client_id=Ov23liTest") && !auth_url.contains("github-secret"), "{auth_url}");
    stop(server);
}

#[test]
fn keygen_prints_a_usable_key_pair_and_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).arg("keygen").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let key = text.lines().find_map(|line| line.strip_prefix("TOKEN_SIGNING_KEY=")).unwrap();
    otp_core::crypto::SigningKey::from_paserk(key).unwrap();
    let secret = text.lines().find_map(|line| line.strip_prefix("SECRET_KEY=")).unwrap();
    assert_eq!(secret.len(), 64);
    let webhook_secret = text.lines().find_map(|line| line.strip_prefix("WEBHOOK_SECRET=")).unwrap();
    otp_core::crypto::WebhookSigner::from_secret(webhook_secret).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_signing_key_keeps_tokens_valid_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let keygen = command(dir.path()).arg("keygen").output().unwrap();
    let text = String::from_utf8(keygen.stdout).unwrap();
    let key = text.lines().find_map(|line| line.strip_prefix("TOKEN_SIGNING_KEY=")).unwrap().to_owned();
    let first = start(&[("TOKEN_SIGNING_KEY", &key)]);
    let second = start(&[("TOKEN_SIGNING_KEY", &key)]);
    let keys = |server: &Server| {
        let url = format!("{}/auth/keys", server.address);
        async move { reqwest::get(url).await.unwrap().json::<Value>().await.unwrap()["keys"][0]["kid"].clone() }
    };
    assert_eq!(keys(&first).await, keys(&second).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_postgres_accounts_and_sessions_survive_a_restart() {
    let database = TestDatabase::reserved().await;
    let (signing_key, secret_key) = generated_keys();
    let env = [
        ("DATABASE_URL", database.url()),
        ("TOKEN_SIGNING_KEY", signing_key.as_str()),
        ("SECRET_KEY", secret_key.as_str()),
    ];
    let client = reqwest::Client::new();
    let credentials = json!({ "email": "carol@example.com", "password": "correct horse battery" });

    let server = start(&env);
    let base = format!("{}/auth", server.address);
    assert_eq!(post(&client, format!("{base}/register"), credentials.clone()).await.0, 202);
    let code = newest_code(&server.mail_dir);
    let (status, kept) =
        post(&client, format!("{base}/verify-otp"), json!({ "email": "carol@example.com", "code": code }))
            .await;
    assert_eq!(status, 200);
    let (status, ended) = post(&client, format!("{base}/login"), credentials.clone()).await;
    assert_eq!(status, 200);
    let logout = client.post(format!("{base}/logout")).bearer_auth(ended["access_token"].as_str().unwrap());
    assert_eq!(logout.send().await.unwrap().status(), 200);
    stop(server);

    let server = start(&env);
    let base = format!("{}/auth", server.address);
    let (status, _) = post(&client, format!("{base}/login"), credentials).await;
    assert_eq!(status, 200, "the account survived");
    let me = client.get(format!("{base}/me")).bearer_auth(kept["access_token"].as_str().unwrap());
    assert_eq!(me.send().await.unwrap().status(), 200, "an access token from before the restart still works");
    let (status, _) =
        post(&client, format!("{base}/refresh"), json!({ "refresh_token": kept["refresh_token"] })).await;
    assert_eq!(status, 200, "a refresh token from before the restart still refreshes");
    let (status, _) =
        post(&client, format!("{base}/refresh"), json!({ "refresh_token": ended["refresh_token"] })).await;
    assert_eq!(status, 401, "a logged-out session stays logged out");
    let me = client.get(format!("{base}/me")).bearer_auth(ended["access_token"].as_str().unwrap());
    assert_eq!(me.send().await.unwrap().status(), 401);
    stop(server);
}

#[tokio::test]
async fn migrate_creates_the_database_and_is_idempotent() {
    let database = TestDatabase::reserved().await;
    let dir = tempfile::tempdir().unwrap();
    let run = || command(dir.path()).arg("migrate").env("DATABASE_URL", database.url()).output().unwrap();
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied migrations"));
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
    let missing = command(dir.path()).arg("migrate").output().unwrap();
    assert_eq!(missing.status.code(), Some(78));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_over_shared_postgres_and_redis_act_as_one_service() {
    let (database, redis) = (TestDatabase::reserved().await, TestRedis::new().await);
    let (signing_key, secret_key) = generated_keys();
    let mail = tempfile::tempdir().unwrap();
    let mail_dir = mail.path().to_str().unwrap().to_owned();
    let env = [
        ("DATABASE_URL", database.url()),
        ("REDIS_URL", redis.url()),
        ("REDIS_KEY_PREFIX", redis.key_prefix()),
        ("TOKEN_SIGNING_KEY", signing_key.as_str()),
        ("SECRET_KEY", secret_key.as_str()),
        ("MAIL_DIR", mail_dir.as_str()),
        ("RATE_LIMIT_PER_IP", "4"),
    ];
    let first = start(&env);
    let second = start(&env);
    let client = reqwest::Client::new();
    let (one, two) = (format!("{}/auth", first.address), format!("{}/auth", second.address));

    assert_eq!(post(&client, format!("{one}/send-otp"), json!({ "email": "dana@example.com" })).await.0, 202);
    let code = newest_code(mail.path());
    let (status, tokens) =
        post(&client, format!("{two}/verify-otp"), json!({ "email": "dana@example.com", "code": code }))
            .await;
    assert_eq!(status, 200, "a code sent through one process verifies through the other: {tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let logout = client.post(format!("{one}/logout")).bearer_auth(access).send().await.unwrap();
    assert_eq!(logout.status(), 200);
    let me = client.get(format!("{two}/me")).bearer_auth(access).send().await.unwrap();
    assert_eq!(me.status(), 401, "a logout through one process is honoured by the other");

    let mut accepted = 1; // the send-otp above
    for n in 0..6 {
        let base = if n % 2 == 0 { &two } else { &one };
        let email = format!("limit-{n}@example.com");
        if post(&client, format!("{base}/send-otp"), json!({ "email": email })).await.0 == 202 {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 4, "the per-IP limit counts requests to both processes");
    stop(first);
    stop(second);
}

#[tokio::test]
async fn metrics_addr_off_starts_no_metrics_listener() {
    // In the environment an empty value counts as unset (the default listener), so
    // `off` is the way to turn it off there.
    let server = start(&[("METRICS_ADDR", "off")]);
    let listening = server.log_of_listening();
    assert_eq!(listening["fields"]["metrics"], "off", "{listening}");
    let on_api_port = reqwest::get(format!("{}/metrics", server.address)).await.unwrap();
    assert_eq!(on_api_port.status(), 404);
    stop(server);
}
