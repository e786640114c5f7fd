//! Mail over SMTP through the real binary and a real SMTP server (aiosmtpd): requests
//! never wait for the mail server, the outbox delivers what was queued while it was down
//! exactly once, and no code ever reaches a log line or an HTTP body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use mail_parser::MessageParser;
use otp_smtp::testing::TestSmtpServer;
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
use otp_test_support::TestDatabase;
use process::{Server, contains_number, generated_keys, post, start, stop};

const ARRIVAL: Duration = Duration::from_secs(30);

/// The environment for a server that mails through `smtp`.
fn smtp_env(smtp: &TestSmtpServer) -> Vec<(String, String)> {
    [
        ("SMTP_SERVER", "127.0.0.1".to_owned()),
        ("SMTP_PORT", smtp.port().to_string()),
        ("SMTP_TLS", "none".to_owned()),
        ("SMTP_TIMEOUT_SECONDS", "2".to_owned()),
        ("MAIL_RETRY_MAX_SECONDS", "1".to_owned()),
        // Retries every second would spend the default budget of 12 tries in an outage of
        // a few seconds on a loaded machine; these tests are about surviving outages and
        // restarts (the budget itself is tested with a manual clock in otp-memory).
        ("MAIL_MAX_ATTEMPTS", "1000".to_owned()),
        ("FROM_EMAIL", "no-reply@acme.test".to_owned()),
        ("APP_NAME", "Acme ID".to_owned()),
        ("RATE_LIMIT_PER_IP", "1000".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

fn launch(env: &[(String, String)]) -> Server {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(key, value)| (key.as_str(), value.as_str())).collect();
    start(&pairs)
}

/// The recipient, the code and both bodies of a raw message, checked as MIME.
struct Received {
    to: String,
    code: Option<String>,
    text: String,
    html: String,
}

fn parse(raw: &[u8]) -> Received {
    let message = MessageParser::default().parse(raw).expect("valid MIME");
    let to = message.to().and_then(|to| to.first()).and_then(|to| to.address()).unwrap().to_owned();
    let text = message.body_text(0).expect("a text part").into_owned();
    let html = message.body_html(0).expect("an HTML part").into_owned();
    let code = text
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 6 && line.bytes().all(|byte| byte.is_ascii_digit()))
        .map(str::to_owned);
    Received { to, code, text, html }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_sent_over_smtp_arrives_as_text_and_html_and_signs_in() {
    let smtp = TestSmtpServer::start().await;
    let server = launch(&smtp_env(&smtp));
    let base = format!("{}/auth", server.address);
    let client = reqwest::Client::new();

    let (status, body) =
        post(&client, format!("{base}/send-otp"), json!({ "email": "ann@example.com" })).await;
    assert_eq!(status, 202, "{body}");
    let received = parse(&smtp.wait_for(1, ARRIVAL).await[0]);
    assert_eq!(received.to, "ann@example.com");
    let code = received.code.expect("a code line in the text part");
    assert!(received.html.contains(&code), "the HTML part carries the code");
    assert!(received.text.contains("Acme ID") && received.html.contains("Acme ID"));

    let verify = json!({ "email": "ann@example.com", "code": code });
    let (status, tokens) = post(&client, format!("{base}/verify-otp"), verify).await;
    assert_eq!(status, 200, "{tokens}");
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_with_the_configured_authority_delivers() {
    let smtp = TestSmtpServer::start_with_starttls().await;
    let mut env = smtp_env(&smtp);
    env.retain(|(key, _)| key != "SMTP_TLS" && key != "SMTP_SERVER");
    env.push(("SMTP_SERVER".into(), "localhost".into()));
    env.push(("SMTP_TLS".into(), "starttls".into()));
    env.push(("SMTP_CA_FILE".into(), smtp.ca_file().unwrap().to_str().unwrap().into()));
    let server = launch(&env);
    let client = reqwest::Client::new();
    let url = format!("{}/auth/send-otp", server.address);
    assert_eq!(post(&client, url, json!({ "email": "tls@example.com" })).await.0, 202);
    assert_eq!(parse(&smtp.wait_for(1, ARRIVAL).await[0]).to, "tls@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mail_server_that_never_answers_does_not_hold_up_requests() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut env = smtp_env(&TestSmtpServer::start().await);
    env.retain(|(key, _)| key != "SMTP_PORT" && key != "SMTP_TIMEOUT_SECONDS");
    env.push(("SMTP_PORT".into(), silent.local_addr().unwrap().port().to_string()));
    env.push(("SMTP_TIMEOUT_SECONDS".into(), "30".into()));
    let server = launch(&env);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for n in 0..5 {
        let url = format!("{}/auth/send-otp", server.address);
        let (status, _) = post(&client, url, json!({ "email": format!("slow{n}@example.com") })).await;
        assert_eq!(status, 202, "answered while the mail server hangs for 30 s");
    }
}

/// 100 sign-in codes to 100 addresses: 30 while the mail server is up, 40 while it is
/// down, 30 after it is back. Every one arrives, once, with no request after the restart
/// needed for the 40.
async fn no_message_is_lost_or_duplicated_across_an_outage(extra_env: &[(&str, &str)]) {
    let mut smtp = TestSmtpServer::start().await;
    let mut env = smtp_env(&smtp);
    env.extend(extra_env.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())));
    let server = launch(&env);
    let client = reqwest::Client::new();
    let url = format!("{}/auth/send-otp", server.address);
    let send = |n: usize| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let (status, body) = post(&client, url, json!({ "email": format!("user{n}@example.com") })).await;
            assert_eq!(status, 202, "send {n}: {body}");
        }
    };

    for n in 0..30 {
        send(n).await;
    }
    smtp.wait_for(30, ARRIVAL).await;
    smtp.stop().await;
    for n in 30..70 {
        send(n).await;
    }
    smtp.restart().await;
    smtp.wait_for(70, ARRIVAL).await;
    for n in 70..100 {
        send(n).await;
    }
    smtp.wait_for(100, ARRIVAL).await;
    // Give a duplicate time to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for raw in smtp.messages() {
        *per_recipient.entry(parse(&raw).to).or_default() += 1;
    }
    assert_eq!(per_recipient.len(), 100, "every address got its code");
    let duplicated: Vec<_> = per_recipient.iter().filter(|(_, count)| **count > 1).collect();
    assert!(duplicated.is_empty(), "sent twice: {duplicated:?}");
    stop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_in_memory_outbox_no_message_is_lost_or_duplicated_across_an_outage() {
    no_message_is_lost_or_duplicated_across_an_outage(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_postgres_outbox_no_message_is_lost_or_duplicated_across_an_outage() {
    let database = TestDatabase::reserved().await;
    let (signing_key, secret_key) = generated_keys();
    no_message_is_lost_or_duplicated_across_an_outage(&[
        ("DATABASE_URL", database.url()),
        ("TOKEN_SIGNING_KEY", signing_key.as_str()),
        ("SECRET_KEY", secret_key.as_str()),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_mail_survives_a_restart_of_the_service_with_the_postgres_outbox() {
    let database = TestDatabase::reserved().await;
    let (signing_key, secret_key) = generated_keys();
    let mut smtp = TestSmtpServer::start().await;
    let mut env = smtp_env(&smtp);
    env.push(("DATABASE_URL".into(), database.url().to_owned()));
    env.push(("TOKEN_SIGNING_KEY".into(), signing_key));
    env.push(("SECRET_KEY".into(), secret_key));
    smtp.stop().await;
    let first = launch(&env);
    let client = reqwest::Client::new();
    for n in 0..5 {
        let url = format!("{}/auth/send-otp", first.address);
        assert_eq!(post(&client, url, json!({ "email": format!("kept{n}@example.com") })).await.0, 202);
    }
    stop(first);
    smtp.restart().await;
    let _second = launch(&env);
    let messages = smtp.wait_for(5, ARRIVAL).await;
    assert_eq!(messages.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_code_reaches_a_log_line_or_an_http_body() {
    let mut smtp = TestSmtpServer::start().await;
    let mut env = smtp_env(&smtp);
    env.push(("RUST_LOG".into(), "trace".into()));
    let server = launch(&env);
    let base = format!("{}/auth", server.address);
    let client = reqwest::Client::new();
    let mut bodies: Vec<Value> = Vec::new();
    let mut call = |response: (u16, Value)| {
        bodies.push(response.1.clone());
        response
    };

    // Passwordless, registration, log-in, password reset, resend; then an outage.
    call(post(&client, format!("{base}/send-otp"), json!({ "email": "ann@example.com" })).await);
    let code = parse(&smtp.wait_for(1, ARRIVAL).await[0]).code.unwrap();
    call(
        post(&client, format!("{base}/verify-otp"), json!({ "email": "ann@example.com", "code": "000000" }))
            .await,
    );
    call(
        post(&client, format!("{base}/verify-otp"), json!({ "email": "ann@example.com", "code": code }))
            .await,
    );
    let credentials = json!({ "email": "bob@example.com", "password": "correct horse battery" });
    call(post(&client, format!("{base}/register"), credentials.clone()).await);
    let code = parse(&smtp.wait_for(2, ARRIVAL).await[1]).code.unwrap();
    call(
        post(&client, format!("{base}/verify-otp"), json!({ "email": "bob@example.com", "code": code }))
            .await,
    );
    call(post(&client, format!("{base}/register"), credentials.clone()).await);
    call(post(&client, format!("{base}/login"), credentials).await);
    call(post(&client, format!("{base}/password/forgot"), json!({ "email": "bob@example.com" })).await);
    // The second registration is refused by the resend cooldown (429): no notice.
    let received = smtp.wait_for(3, ARRIVAL).await;
    let code = parse(received.last().unwrap()).code.unwrap();
    let reset = json!({ "email": "bob@example.com", "code": code, "new_password": "another long password" });
    call(post(&client, format!("{base}/password/reset"), reset).await);
    smtp.stop().await;
    call(post(&client, format!("{base}/send-otp"), json!({ "email": "carl@example.com" })).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    smtp.restart().await;
    smtp.wait_for(4, ARRIVAL).await;
    let log = stop(server);

    let codes: Vec<String> = smtp.messages().iter().filter_map(|raw| parse(raw).code).collect();
    assert_eq!(codes.len(), 4, "sign-in, registration, reset, and the one queued during the outage");
    assert!(log.len() > 20, "the trace log was captured ({} lines)", log.len());
    let bodies: String = bodies.iter().map(Value::to_string).collect();
    for code in &codes {
        assert!(!contains_number(&bodies, code), "an HTTP body holds the code {code}");
        for line in &log {
            assert!(!contains_number(line, code), "a log line holds the code {code}: {line}");
        }
    }
}

/// A sign-in code asked for by `address`, with `accept_language` when given.
async fn send_otp(server: &Server, address: &str, accept_language: Option<&str>) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/auth/send-otp", server.address))
        .json(&json!({ "email": address }));
    if let Some(language) = accept_language {
        request = request.header("Accept-Language", language);
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
}

/// The raw messages in `dir` (the mail folder), oldest first.
fn folder_messages(dir: &std::path::Path, count: usize) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + ARRIVAL;
    loop {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        paths.retain(|path: &std::path::PathBuf| path.extension().is_some_and(|ext| ext == "eml"));
        if paths.len() >= count {
            paths.sort();
            return paths.iter().map(|path| std::fs::read(path).unwrap()).collect();
        }
        assert!(std::time::Instant::now() < deadline, "{count} messages expected in {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn subject(raw: &[u8]) -> String {
    MessageParser::default().parse(raw).unwrap().subject().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_template_is_delivered_over_smtp_and_into_the_folder_and_defaults_fill_the_rest() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("sign_in_code.txt"), "{{ product }} override: {{ code }}\n")
        .unwrap();
    let template_dir = templates.path().to_str().unwrap().to_owned();

    let smtp = TestSmtpServer::start().await;
    let mut env = smtp_env(&smtp);
    env.push(("MAIL_TEMPLATE_DIR".into(), template_dir.clone()));
    let server = launch(&env);
    send_otp(&server, "ann@example.com", None).await;
    let received = parse(&smtp.wait_for(1, ARRIVAL).await[0]);
    assert!(received.text.starts_with("Acme ID override: "), "{}", received.text);
    assert!(received.html.contains("Enter this code to sign in to Acme ID"), "no HTML override: the default");
    stop(server);

    let mail = tempfile::tempdir().unwrap();
    let mail_dir = mail.path().to_str().unwrap();
    let server =
        start(&[("MAIL_TEMPLATE_DIR", &template_dir), ("MAIL_DIR", mail_dir), ("APP_NAME", "Acme ID")]);
    send_otp(&server, "bo@example.com", None).await;
    let written = parse(&folder_messages(mail.path(), 1)[0]);
    assert!(written.text.starts_with("Acme ID override: "), "{}", written.text);
    assert!(written.html.contains("Enter this code to sign in to Acme ID"));
    stop(server);

    // Without the folder: the built-in text.
    let plain = tempfile::tempdir().unwrap();
    let server = start(&[("MAIL_DIR", plain.path().to_str().unwrap()), ("APP_NAME", "Acme ID")]);
    send_otp(&server, "cy@example.com", None).await;
    let written = parse(&folder_messages(plain.path(), 1)[0]);
    assert!(written.text.starts_with("Enter this code to sign in to Acme ID"), "{}", written.text);
    stop(server);
}

#[test]
fn a_broken_template_stops_start_up_naming_its_file_and_line() {
    let templates = tempfile::tempdir().unwrap();
    let broken = templates.path().join("account_exists.html");
    std::fs::write(
        &broken,
        "{% extends \"layout.html\" %}\n{% block content %}\n<p>{{ k.body }</p>\n{% endblock %}\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = process::command(dir.path())
        .env("PORT", "0")
        .env("MAIL_TEMPLATE_DIR", templates.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{} line 3", broken.display())), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn accept_language_de_delivers_german_mail_and_a_stored_fr_wins_over_it() {
    let smtp = TestSmtpServer::start().await;
    let mut env = smtp_env(&smtp);
    env.push(("OTP_RESEND_COOLDOWN_SECONDS".into(), "0".into()));
    let server = launch(&env);
    send_otp(&server, "de@example.com", Some("de-DE,de;q=0.9,en;q=0.5")).await;
    let german = smtp.wait_for(1, ARRIVAL).await.remove(0);
    assert_eq!(subject(&german), "Ihr Anmeldecode für Acme ID");
    assert!(parse(&german).text.contains("Minuten ab und gilt nur einmal"), "{}", parse(&german).text);

    let client = reqwest::Client::new();
    let register =
        json!({ "email": "fr@example.com", "password": "a long enough passphrase", "locale": "fr" });
    let response = client
        .post(format!("{}/auth/register", server.address))
        .header("Accept-Language", "de")
        .json(&register)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let french = smtp.wait_for(2, ARRIVAL).await.remove(1);
    assert_eq!(subject(&french), "Confirmez votre compte Acme ID");
    let code = parse(&french).code.unwrap();
    let verify = json!({ "email": "fr@example.com", "code": code });
    assert_eq!(post(&client, format!("{}/auth/verify-otp", server.address), verify).await.0, 200);
    send_otp(&server, "fr@example.com", Some("de")).await;
    let again = smtp.wait_for(3, ARRIVAL).await.remove(2);
    assert_eq!(subject(&again), "Votre code de connexion Acme ID", "the stored locale wins over the header");
    stop(server);
}

/// Signs with a fresh RSA key (openssl), and checks with dkimpy.
#[tokio::test(flavor = "multi_thread")]
async fn mail_over_smtp_and_in_the_folder_is_dkim_signed_and_verifies_with_dkimpy() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = (keys.path().join("dkim.pem"), keys.path().join("dkim.pub.pem"));
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl").args(args).status().unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        private.to_str().unwrap(),
    ]);
    openssl(&["pkey", "-in", private.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    let verifies = |raw: &[u8]| {
        let message = keys.path().join("message.eml");
        std::fs::write(&message, raw).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/dkim-verify.py");
        let output = std::process::Command::new(otp_smtp::testing::python())
            .args([script, message.to_str().unwrap(), public.to_str().unwrap(), "mail2026", "acme.test"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("pass") || stdout.starts_with("fail"),
            "{stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.status.success()
    };
    let dkim = [
        ("DKIM_PRIVATE_KEY", private.to_str().unwrap().to_owned()),
        ("DKIM_SELECTOR", "mail2026".to_owned()),
        ("DKIM_DOMAIN", "acme.test".to_owned()),
    ];

    let smtp = TestSmtpServer::start().await;
    let mut env = smtp_env(&smtp);
    env.extend(dkim.iter().map(|(key, value)| ((*key).to_owned(), value.clone())));
    let server = launch(&env);
    send_otp(&server, "ann@example.com", Some("fr")).await;
    let raw = smtp.wait_for(1, ARRIVAL).await.remove(0);
    assert!(raw.starts_with(b"DKIM-Signature: "), "{}", String::from_utf8_lossy(&raw));
    assert!(verifies(&raw), "the SMTP message verifies");
    let mut tampered = raw.clone();
    let at = tampered.windows(6).position(|window| window == b"Acme I").unwrap();
    tampered[at] = b'X';
    assert!(!verifies(&tampered), "a changed message does not");
    stop(server);

    // The PEM itself in the variable, and the mail folder.
    let mail = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(&private).unwrap();
    let server = start(&[
        ("MAIL_DIR", mail.path().to_str().unwrap()),
        ("FROM_EMAIL", "no-reply@acme.test"),
        ("APP_NAME", "Acme ID"),
        ("DKIM_PRIVATE_KEY", &pem),
        ("DKIM_SELECTOR", "mail2026"),
        ("DKIM_DOMAIN", "acme.test"),
    ]);
    send_otp(&server, "bo@example.com", None).await;
    let raw = folder_messages(mail.path(), 1).remove(0);
    let headers =
        String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).into_owned();
    for header in [
        "DKIM-Signature: ",
        "Message-ID: <",
        "Date: ",
        "Auto-Submitted: auto-generated",
        "Content-Language: en",
    ] {
        assert!(headers.contains(header), "{header} missing from {headers}");
    }
    assert!(verifies(&raw), "the folder's message verifies");
    stop(server);
}
