//! Other services checking our tokens: otp-verify's axum and actix examples, started as
//! processes in front of the real `otp-server` binary, accept the tokens it mints,
//! refuse tampered and expired ones, follow a key rotation without a restart and, with
//! the liveness check on, refuse a logged-out session within seconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use otp_core::crypto::{AccessTokens, Keyring, SigningKey, TokenSubject};
use otp_core::domain::{AuthMethod, Role, User};
use otp_core::{EmailAddress, SessionId};
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
use process::{Server, generated_keys, newest_code, output_lines, post, start, stop};

const CREDENTIAL: &str = "svc-examples-6a1f0c9e8d7b6a5f4e3d2c1b0a9f8e7d";

/// A running example.
struct Example {
    child: Child,
    base: String,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn examples_dir() -> PathBuf {
    let dir = std::env::var_os("OTP_VERIFY_EXAMPLES").map(PathBuf::from).unwrap_or_else(|| {
        panic!("OTP_VERIFY_EXAMPLES is unset: run these tests with `cargo nextest run`, or run scripts/verify-examples.sh and set it to the folder it prints")
    });
    assert!(dir.join("axum").exists(), "no examples in {}", dir.display());
    dir
}

/// Starts example `name` with `env`, on a free port; waits for its "listening on" line.
fn start_example(name: &str, env: &[(&str, &str)]) -> Example {
    let mut child = Command::new(examples_dir().join(name))
        .env_clear()
        .env("BIND_ADDR", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = output_lines(child.stdout.take().unwrap());
    let base = loop {
        let line = lines.recv_timeout(Duration::from_secs(30)).expect("the example says where it listens");
        if let Some(base) = line.strip_prefix("listening on ") {
            break base.trim().to_owned();
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || while lines.recv().is_ok() {});
    Example { child, base }
}

/// A port free right now, for a server that must come back on the same address.
fn free_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string()
}

/// Passwordless sign-in at `server`; returns the token response.
async fn sign_in(server: &Server, address: &str) -> Value {
    let client = reqwest::Client::new();
    let base = format!("{}/auth", server.address);
    let (status, _) = post(&client, format!("{base}/send-otp"), json!({ "email": address })).await;
    assert_eq!(status, 202);
    let code = newest_code(&server.mail_dir);
    let (status, tokens) =
        post(&client, format!("{base}/verify-otp"), json!({ "email": address, "code": code })).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

async fn get(example: &Example, path: &str, token: Option<&str>) -> (u16, String) {
    let request = reqwest::Client::new().get(format!("{}{path}", example.base));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// `token` with one character of its payload changed.
fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = "v4.public.".len() + 12;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// A token signed with the server's own key, issuer and audience, expired an hour ago.
fn expired_token(signing_key: &str) -> String {
    let keyring = Keyring::new(SigningKey::from_paserk(signing_key).unwrap(), vec![]);
    let tokens = AccessTokens::new(keyring, "otp-auth".into(), "otp-auth".into(), Duration::from_secs(1800));
    let two_hours_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let user = User::new_verified(EmailAddress::parse("old@example.com").unwrap(), two_hours_ago);
    let subject = TokenSubject {
        user: &user,
        session_id: SessionId::generate(),
        auth_methods: &[AuthMethod::Otp],
        role: Role::User,
    };
    tokens.issue(subject, two_hours_ago).unwrap()
}

/// Asks `path` with `token` until the status is `wanted` or `within` has passed; returns
/// how long it took.
async fn wait_for_status(
    example: &Example,
    path: &str,
    token: &str,
    wanted: u16,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = get(example, path, Some(token)).await;
        if status == wanted {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "still {status} ({body}) after {within:?}, wanted {wanted}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn accepts_real_tokens_refuses_forged_ones_and_follows_a_rotation(name: &str) {
    let (first_key, secret) = generated_keys();
    let port = free_port();
    let admin = format!("admin-{name}@example.com");
    let server_env = |key: &str, previous: &str| {
        vec![
            ("PORT".to_owned(), port.clone()),
            ("TOKEN_SIGNING_KEY".to_owned(), key.to_owned()),
            ("TOKEN_PREVIOUS_PUBLIC_KEYS".to_owned(), previous.to_owned()),
            ("SECRET_KEY".to_owned(), secret.clone()),
            ("ADMIN_EMAIL".to_owned(), admin.clone()),
        ]
    };
    let env = server_env(&first_key, "");
    let server = start(&env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
    let keys_url = format!("{}/auth/keys", server.address);
    let example = start_example(name, &[("OTP_KEYS_URL", &keys_url)]);

    let tokens = sign_in(&server, "ann@example.com").await;
    let first = access(&tokens);
    let (status, body) = get(&example, "/me", Some(&first)).await;
    assert_eq!(status, 200, "{body}");
    let claims: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(claims["sub"], tokens["user"]["id"]);
    assert_eq!((&claims["email"], &claims["amr"]), (&json!("ann@example.com"), &json!(["otp"])));
    assert_eq!(get(&example, "/admin/report", Some(&first)).await.0, 403, "not an administrator");
    let admin_token = access(&sign_in(&server, &admin).await);
    let (status, report) = get(&example, "/admin/report", Some(&admin_token)).await;
    assert_eq!((status, report.starts_with("report for administrator")), (200, true), "{report}");

    assert_eq!(get(&example, "/me", None).await.0, 401);
    assert_eq!(get(&example, "/me", Some(&tampered(&first))).await.0, 401);
    let (status, body) = get(&example, "/me", Some(&expired_token(&first_key))).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("expired"), "{body}");

    // Rotation: the server comes back on the same address signing with a new key and
    // publishing the old one as previous; the example, still running, follows.
    stop(server);
    let previous = SigningKey::from_paserk(&first_key).unwrap().verifying_key().to_paserk();
    let (second_key, _) = generated_keys();
    let env = server_env(&second_key, &previous);
    let server = start(&env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
    let second = access(&sign_in(&server, "bob@example.com").await);
    assert_ne!(second.rsplit('.').next(), first.rsplit('.').next(), "signed with another key");
    wait_for_status(&example, "/me", &second, 200, Duration::from_secs(20)).await;
    assert_eq!(get(&example, "/me", Some(&first)).await.0, 200, "the previous key still verifies");
    stop(server);
}

async fn refuses_a_logged_out_session_within_seconds(name: &str) {
    let (key, secret) = generated_keys();
    let server =
        start(&[("TOKEN_SIGNING_KEY", &key), ("SECRET_KEY", &secret), ("INTROSPECTION_TOKENS", CREDENTIAL)]);
    let keys_url = format!("{}/auth/keys", server.address);
    let example = start_example(
        name,
        &[
            ("OTP_KEYS_URL", &keys_url),
            ("OTP_INTROSPECTION_URL", &server.address),
            ("OTP_INTROSPECTION_TOKEN", CREDENTIAL),
        ],
    );
    let token = access(&sign_in(&server, "cy@example.com").await);
    let (status, body) = get(&example, "/me", Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    let logout = reqwest::Client::new()
        .post(format!("{}/auth/logout", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    let took = wait_for_status(&example, "/me", &token, 401, Duration::from_secs(8)).await;
    println!("{name}: the logout was seen after {took:?}");
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_axum_example_accepts_real_tokens_refuses_forged_ones_and_follows_a_rotation() {
    accepts_real_tokens_refuses_forged_ones_and_follows_a_rotation("axum").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_actix_example_accepts_real_tokens_refuses_forged_ones_and_follows_a_rotation() {
    accepts_real_tokens_refuses_forged_ones_and_follows_a_rotation("actix").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_axum_example_with_liveness_refuses_a_logged_out_session_within_seconds() {
    refuses_a_logged_out_session_within_seconds("axum").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_actix_example_with_liveness_refuses_a_logged_out_session_within_seconds() {
    refuses_a_logged_out_session_within_seconds("actix").await;
}

/// Runs clients/node-verify/verify.mjs (the npm `paseto` package) on `token`; returns
/// whether it accepted it and what it printed.
fn node_verify(server: &Server, token: &str) -> (bool, Value) {
    let script = std::env::var("OTP_NODE_VERIFY").unwrap_or_else(|_| {
        panic!("OTP_NODE_VERIFY is unset: run these tests with `cargo nextest run`, or run scripts/verify-examples.sh and set it to target/tools/node-verify/verify.mjs")
    });
    let output = Command::new("node").arg(script).arg(&server.address).arg(token).output().unwrap();
    let printed = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let value = serde_json::from_str(printed.trim()).unwrap_or_else(|_| panic!("{printed}{stderr}"));
    (output.status.success(), value)
}

#[tokio::test(flavor = "multi_thread")]
async fn node_with_the_npm_paseto_package_verifies_real_tokens_and_refuses_forged_ones() {
    let (key, secret) = generated_keys();
    let server = start(&[("TOKEN_SIGNING_KEY", &key), ("SECRET_KEY", &secret)]);
    let tokens = sign_in(&server, "dee@example.com").await;
    let token = access(&tokens);
    let (accepted, claims) = node_verify(&server, &token);
    assert!(accepted, "{claims}");
    assert_eq!(claims["sub"], tokens["user"]["id"]);
    assert_eq!((&claims["email"], &claims["amr"]), (&json!("dee@example.com"), &json!(["otp"])));
    assert_eq!((&claims["iss"], &claims["aud"]), (&json!("otp-auth"), &json!("otp-auth")));

    let (accepted, refused) = node_verify(&server, &tampered(&token));
    assert!(!accepted, "a tampered token was accepted: {refused}");
    let (accepted, refused) = node_verify(&server, &expired_token(&key));
    assert!(!accepted && refused["refused"].as_str().unwrap().contains("expired"), "{refused}");
    let (other_key, _) = generated_keys();
    let (accepted, refused) = node_verify(&server, &expired_token(&other_key));
    assert!(!accepted && refused["refused"].as_str().unwrap().contains("unknown key id"), "{refused}");
    stop(server);
}

fn typescript_client() -> PathBuf {
    std::env::var_os("OTP_TYPESCRIPT_CLIENT").map(PathBuf::from).unwrap_or_else(|| {
        panic!("OTP_TYPESCRIPT_CLIENT is unset: run these tests with `cargo nextest run`, or run scripts/verify-examples.sh and set it to target/tools/typescript-client")
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_typescript_client_signs_in_refreshes_and_logs_out_against_the_binary() {
    let server = start(&[]);
    let client = typescript_client();
    let output = Command::new("node")
        .args(["--test", "dist/test/"])
        .current_dir(&client)
        .env("OTP_BASE_URL", &server.address)
        .env("OTP_MAIL_DIR", &server.mail_dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(report.contains("# pass 4") && report.contains("# fail 0"), "{report}");
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_typescript_clients_generated_types_match_the_servers_openapi_document() {
    let server = start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("schema.d.ts");
    let output = Command::new("node")
        .arg(typescript_client().join("node_modules/openapi-typescript/bin/cli.js"))
        .arg(format!("{}/openapi.json", server.address))
        .arg("-o")
        .arg(&generated)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../clients/typescript/src/schema.d.ts");
    assert!(
        std::fs::read_to_string(committed).unwrap() == std::fs::read_to_string(&generated).unwrap(),
        "clients/typescript/src/schema.d.ts is out of date: run `npm run generate` there against a running server (see its README)"
    );
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_actix_app_serves_the_auth_routes_under_its_own_scope_beside_its_own_routes() {
    let mail = tempfile::tempdir().unwrap();
    let mail_dir = mail.path().to_str().unwrap();
    let app = start_example("embedded_actix", &[("MAIL_DIR", mail_dir)]);
    let client = reqwest::Client::new();
    assert_eq!(get(&app, "/", None).await, (200, "the shop's home page".to_owned()));
    let auth = format!("{}/identity/auth", app.base);
    let (status, _) = post(&client, format!("{auth}/send-otp"), json!({ "email": "eve@example.com" })).await;
    assert_eq!(status, 202);
    let code = newest_code(mail.path());
    let (status, tokens) =
        post(&client, format!("{auth}/verify-otp"), json!({ "email": "eve@example.com", "code": code }))
            .await;
    assert_eq!(status, 200, "{tokens}");
    let token = access(&tokens);
    let (status, orders) = get(&app, "/shop/orders", Some(&token)).await;
    assert_eq!(status, 200, "{orders}");
    assert_eq!(serde_json::from_str::<Value>(&orders).unwrap()["for"], "eve@example.com");
    let (status, refused) = get(&app, "/shop/orders", None).await;
    assert_eq!(status, 401);
    assert_eq!(serde_json::from_str::<Value>(&refused).unwrap()["code"], "token_invalid");
    assert_eq!(get(&app, "/identity/auth/me", Some(&token)).await.0, 200);
    let (status, missing) = get(&app, "/identity/nothing-here", None).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&missing).unwrap()["code"].clone()),
        (404, json!("not_found"))
    );
    assert_eq!(get(&app, "/auth/me", Some(&token)).await.0, 404, "only under the app's scope");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_axum_service_on_otp_core_and_the_memory_adapters_signs_in_and_out() {
    let mail = tempfile::tempdir().unwrap();
    let service = start_example("axum_service", &[("MAIL_DIR", mail.path().to_str().unwrap())]);
    let client = reqwest::Client::new();
    let (status, _) =
        post(&client, format!("{}/send-code", service.base), json!({ "email": "fay@example.com" })).await;
    assert_eq!(status, 202);
    let code = newest_code(mail.path());
    let verify = |code: String| {
        post(
            &client,
            format!("{}/verify-code", service.base),
            json!({ "email": "fay@example.com", "code": code }),
        )
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(verify(wrong.to_owned()).await.0, 400);
    let (status, tokens) = verify(code).await;
    assert_eq!(status, 200, "{tokens}");
    let token = access(&tokens);
    let (status, me) = get(&service, "/me", Some(&token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(serde_json::from_str::<Value>(&me).unwrap()["email"], "fay@example.com");
    let logout = client.post(format!("{}/logout", service.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(get(&service, "/me", Some(&token)).await.0, 401);
    assert_eq!(get(&service, "/me", None).await.0, 401);
}
