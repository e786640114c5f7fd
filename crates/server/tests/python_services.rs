//! Moving from the two Python services: the real binary started with each one's `.env`
//! (as their READMEs give them, pointed at a real SMTP server) starts, mails a code,
//! and logs each alias it read; the first service's curl walk-through works verbatim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use mail_parser::MessageParser;
use otp_smtp::testing::TestSmtpServer;
use serde_json::json;

#[path = "support/process.rs"]
mod process;
use otp_test_support::{TestDatabase, TestRedis};
use process::{Server, post, start_with_dotenv, stop};

const ARRIVAL: Duration = Duration::from_secs(30);

/// The first service's `.env` (FastAPI + MongoDB), its SMTP server being the test's.
/// Its README's `SMTP_USER`/`SMTP_PASSWORD` are left out: the test server has no AUTH.
fn first_service_env(smtp: &TestSmtpServer) -> String {
    format!(
        "MONGODB_URL=mongodb://localhost:27017\n\
         DATABASE_NAME=otp_auth\n\
         JWT_SECRET_KEY=change-this-to-a-long-random-secret-key-in-production\n\
         JWT_ALGORITHM=HS256\n\
         ACCESS_TOKEN_EXPIRE_MINUTES=30\n\
         OTP_EXPIRY_MINUTES=5\n\
         SMTP_HOST=127.0.0.1\n\
         SMTP_PORT={}\n\
         FROM_EMAIL=noreply@example.com\n",
        smtp.port()
    )
}

/// The second service's `.env` (FastAPI + PostgreSQL + Redis), its database, Redis
/// key prefix and SMTP server being the test's.
fn second_service_env(smtp: &TestSmtpServer, database: &TestDatabase, redis: &TestRedis) -> String {
    let asyncpg = database.url().replacen("postgres://", "postgresql+asyncpg://", 1);
    let asyncpg = asyncpg.replacen("postgresql://", "postgresql+asyncpg://", 1);
    format!(
        "DATABASE_URL={asyncpg}\n\
         REDIS_URL={}\n\
         SECRET_KEY=09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7\n\
         ALGORITHM=HS256\n\
         ACCESS_TOKEN_EXPIRE_MINUTES=30\n\
         SMTP_SERVER=127.0.0.1\n\
         SMTP_PORT={}\n\
         FROM_EMAIL=noreply@example.com\n\
         FRONTEND_URL=http://127.0.0.1:5500\n\
         GOOGLE_CLIENT_ID=your-google-client-id.apps.googleusercontent.com\n\
         GOOGLE_CLIENT_SECRET=your-google-client-secret\n\
         GOOGLE_REDIRECT_URI=http://127.0.0.1:5500/index.html\n\
         GITHUB_CLIENT_ID=your-github-client-id\n\
         GITHUB_CLIENT_SECRET=your-github-client-secret\n\
         GITHUB_REDIRECT_URI=http://127.0.0.1:5500/index.html\n",
        redis.url(),
        smtp.port()
    )
}

/// What the test adds: plain SMTP to the test server, quick retries, JSON logs.
const TEST_ENV: [(&str, &str); 3] =
    [("SMTP_TLS", "none"), ("MAIL_RETRY_MAX_SECONDS", "1"), ("RATE_LIMIT_PER_IP", "1000")];

fn startup_messages(server: &Server, message: &str) -> Vec<String> {
    server
        .startup_log
        .iter()
        .filter(|entry| entry["fields"]["message"] == message)
        .map(|entry| entry["fields"]["setting"].as_str().unwrap().to_owned())
        .collect()
}

fn code_in(raw: &[u8]) -> (String, String) {
    let message = MessageParser::default().parse(raw).unwrap();
    let to = message.to().and_then(|to| to.first()).and_then(|to| to.address()).unwrap().to_owned();
    let text = message.body_text(0).unwrap().into_owned();
    let code = text
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 6 && line.bytes().all(|byte| byte.is_ascii_digit()))
        .unwrap()
        .to_owned();
    (to, code)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_services_env_starts_mails_a_code_and_logs_each_alias() {
    let smtp = TestSmtpServer::start().await;
    let server = start_with_dotenv(&first_service_env(&smtp), &TEST_ENV);
    let aliases = startup_messages(&server, "configuration alias");
    for expected in [
        "SMTP_HOST read as SMTP_SERVER",
        "JWT_SECRET_KEY read as SECRET_KEY",
        "OTP_EXPIRY_MINUTES read as OTP_EXPIRE_SECONDS (300 seconds)",
    ] {
        assert!(aliases.iter().any(|line| line == expected), "{expected:?} not in {aliases:?}");
    }
    assert!(aliases.iter().any(|line| line.starts_with("JWT_ALGORITHM is not used")), "{aliases:?}");
    assert!(!format!("{:?}", server.startup_log).contains("change-this-to-a-long"), "no secret is logged");
    let warning = server
        .startup_log
        .iter()
        .find(|entry| {
            entry["fields"]["message"].as_str().is_some_and(|text| text.starts_with("MongoDB is not a store"))
        })
        .expect("a warning about MONGODB_URL");
    assert_eq!(warning["fields"]["keys"], "MONGODB_URL, DATABASE_NAME");
    assert!(warning["fields"]["message"].as_str().unwrap().contains("otp-server import mongoexport"));

    let client = reqwest::Client::new();
    let url = format!("{}/api/auth/send-otp", server.address);
    let (status, body) = post(&client, url, json!({ "email": "ann@example.com" })).await;
    assert_eq!(status, 202, "{body}");
    let (to, code) = code_in(&smtp.wait_for(1, ARRIVAL).await[0]);
    assert_eq!(to, "ann@example.com");
    let verify = json!({ "email": "ann@example.com", "otp": code });
    let (status, tokens) = post(&client, format!("{}/api/auth/verify-otp", server.address), verify).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["expires_in"], 1800, "ACCESS_TOKEN_EXPIRE_MINUTES=30 is read");
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_services_env_starts_on_its_asyncpg_url_and_mails_a_code() {
    let smtp = TestSmtpServer::start().await;
    let (database, redis) = (TestDatabase::reserved().await, TestRedis::new().await);
    let mut env = TEST_ENV.to_vec();
    env.push(("REDIS_KEY_PREFIX", redis.key_prefix()));
    let server = start_with_dotenv(&second_service_env(&smtp, &database, &redis), &env);
    let aliases = startup_messages(&server, "configuration alias");
    assert!(aliases.iter().any(|line| line == "DATABASE_URL: SQLAlchemy's driver suffix +asyncpg ignored"));
    assert!(aliases.iter().any(|line| line.starts_with("ALGORITHM is not used")), "{aliases:?}");
    assert!(!format!("{:?}", server.startup_log).contains("MongoDB"));

    let client = reqwest::Client::new();
    let credentials = json!({ "email": "bob@example.com", "password": "correct horse battery" });
    let (status, body) = post(&client, format!("{}/auth/register", server.address), credentials).await;
    assert_eq!(status, 202, "{body}");
    let (to, code) = code_in(&smtp.wait_for(1, ARRIVAL).await[0]);
    assert_eq!(to, "bob@example.com");
    let verify = json!({ "email": "bob@example.com", "code": code });
    let (status, tokens) = post(&client, format!("{}/auth/verify-otp", server.address), verify).await;
    assert_eq!(status, 200, "{tokens}");

    // FRONTEND_URL's origin may call the API from a browser.
    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("{}/auth/login", server.address))
        .header("Origin", "http://127.0.0.1:5500")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    let allowed = preflight
        .headers()
        .get("access-control-allow-origin")
        .map(|value| value.to_str().unwrap().to_owned());
    assert_eq!(allowed.as_deref(), Some("http://127.0.0.1:5500"));
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_under_both_names_with_different_values_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), "SMTP_HOST=a.example\nSMTP_SERVER=b.example\n").unwrap();
    let output = process::command(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("SMTP_HOST and SMTP_SERVER are both set, to different values"), "{stderr}");
}

/// The first service's README walk-through, each request as its curl line sends it
/// (`-H "Content-Type: application/json" -d '...'`, `-H "Authorization: Bearer ..."`).
#[tokio::test(flavor = "multi_thread")]
async fn the_first_services_curl_walk_through_works_verbatim() {
    let smtp = TestSmtpServer::start().await;
    let server = start_with_dotenv(&first_service_env(&smtp), &TEST_ENV);
    let client = reqwest::Client::new();
    let curl_post = |path: &str, body: String| {
        client
            .post(format!("{}{path}", server.address))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    // curl -X POST .../api/auth/send-otp -H "Content-Type: application/json" -d '{"email": "user@example.com"}'
    let sent = curl_post("/api/auth/send-otp", r#"{"email": "user@example.com"}"#.to_owned()).await.unwrap();
    assert_eq!(sent.status(), 202);
    let sent: serde_json::Value = sent.json().await.unwrap();
    assert_eq!(sent["email"], "user@example.com");
    assert_eq!(sent["expires_in_seconds"], 300, "OTP_EXPIRY_MINUTES=5");
    // The same shape for an address given in another case: normalised, nothing else.
    let other =
        curl_post("/api/auth/send-otp", r#"{"email": " New.Person@Example.COM "}"#.to_owned()).await.unwrap();
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(other["email"], "new.person@example.com");
    let keys = |value: &serde_json::Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&sent), keys(&other));
    let messages = smtp.wait_for(2, ARRIVAL).await;
    let code = messages.iter().map(|raw| code_in(raw)).find(|(to, _)| to == "user@example.com").unwrap().1;

    // curl -X POST .../api/auth/verify-otp -H "Content-Type: application/json" -d '{"email": "user@example.com", "otp": "123456"}'
    let verify = format!(r#"{{"email": "user@example.com", "otp": "{code}"}}"#);
    let tokens = curl_post("/api/auth/verify-otp", verify).await.unwrap();
    assert_eq!(tokens.status(), 200);
    let tokens: serde_json::Value = tokens.json().await.unwrap();
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(tokens["user"]["email"], "user@example.com");

    // curl -X GET .../api/auth/me -H "Authorization: Bearer <token>"
    // curl -X POST .../api/auth/logout -H "Authorization: Bearer <token>"
    let bearer = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{}/api/auth/{path}", server.address))
            .header("Authorization", format!("Bearer {token}"))
            .send()
    };
    let me = bearer(reqwest::Method::GET, "me").await.unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!((&me["email"], &me["is_verified"]), (&json!("user@example.com"), &json!(true)));
    assert_eq!(bearer(reqwest::Method::POST, "logout").await.unwrap().status(), 200);
    let me = bearer(reqwest::Method::GET, "me").await.unwrap();
    assert_eq!(me.status(), 401);
    let problem: serde_json::Value = me.json().await.unwrap();
    assert!(problem["detail"].is_string(), "errors carry `detail`: {problem}");

    // Its health check: GET / with Accept: application/json; a browser still gets the page.
    let health =
        client.get(format!("{}/", server.address)).header("Accept", "application/json").send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap(), json!({ "status": "ok" }));
    let page = client
        .get(format!("{}/", server.address))
        .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    stop(server);
}
