//! `otp-server import` through the real binary: the second Python service's `users`
//! table (bcrypt hashes made by Python's `bcrypt`, as passlib stores them) and the first
//! service's `mongoexport` file come over; their users then sign in over HTTP with their
//! old password or a code, and bcrypt hashes are replaced by Argon2id at the first log-in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
use otp_test_support::TestDatabase;
use process::{command, newest_code, post, start, stop};

/// The second service's users and their passwords; `Carol` is stored in mixed case.
const PEOPLE: [(&str, &str, &str); 3] = [
    ("ann@example.com", "ann's old password", "$2b$"),
    ("bob@example.com", "bob's old password", "$2a$"),
    (" Carol@Example.COM", "carol's old password", "$2y$"),
];

/// bcrypt hashes of `passwords` by Python's `bcrypt` (what passlib's bcrypt uses),
/// cost 12 as passlib's default.
fn python_bcrypt(passwords: &[&str]) -> Vec<String> {
    let script = "import bcrypt, sys\nfor p in sys.argv[1:]:\n    print(bcrypt.hashpw(p.encode(), bcrypt.gensalt(12)).decode())";
    let output = std::process::Command::new(otp_smtp::testing::python())
        .arg("-c")
        .arg(script)
        .args(passwords)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// The second service's table, as its SQLAlchemy model creates it, with three people
/// and two records whose addresses collide after normalisation.
async fn second_service_database() -> TestDatabase {
    let source = TestDatabase::empty().await;
    let client = sql(source.url()).await;
    client
        .batch_execute(
            "CREATE TABLE users (
                id SERIAL PRIMARY KEY,
                email VARCHAR(255) UNIQUE NOT NULL,
                hashed_password VARCHAR(255),
                is_active BOOLEAN DEFAULT TRUE,
                is_verified BOOLEAN DEFAULT FALSE,
                created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now(),
                updated_at TIMESTAMP WITHOUT TIME ZONE
            )",
        )
        .await
        .unwrap();
    let passwords: Vec<&str> = PEOPLE.iter().map(|(_, password, _)| *password).collect();
    for ((email, _, prefix), hash) in PEOPLE.iter().zip(python_bcrypt(&passwords)) {
        assert!(hash.starts_with("$2b$12$"), "{hash}");
        let hash = hash.replacen("$2b$", prefix, 1);
        client
            .execute(
                "INSERT INTO users (email, hashed_password, is_verified, created_at) VALUES ($1, $2, true, '2024-03-01 09:00')",
                &[email, &hash],
            )
            .await
            .unwrap();
    }
    client
        .batch_execute(
            "INSERT INTO users (email, hashed_password, is_verified) VALUES
                ('dup@example.com', NULL, true), ('DUP@example.com', NULL, true)",
        )
        .await
        .unwrap();
    source
}

fn import(store: &TestDatabase, arguments: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let output =
        command(dir.path()).arg("import").args(arguments).env("DATABASE_URL", store.url()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

async fn stored_hashes(store: &TestDatabase) -> Vec<(String, Option<String>)> {
    let client = sql(store.url()).await;
    let rows = client.query("SELECT email, password_hash FROM users ORDER BY email", &[]).await.unwrap();
    rows.iter().map(|row| (row.get(0), row.get(1))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_services_users_log_in_with_their_old_passwords() {
    let source = second_service_database().await;
    let store = TestDatabase::reserved().await;
    // Its own URL, as its .env gives it, with SQLAlchemy's driver suffix.
    let source_url = source.url().replacen("postgres://", "postgresql+asyncpg://", 1);
    let source_url = source_url.replacen("postgresql://", "postgresql+asyncpg://", 1);

    let dry = stdout(&import(&store, &["postgres", &source_url, "--dry-run"]));
    assert!(dry.starts_with("would import 3 accounts, skipped 2\n"), "{dry}");
    assert!(stored_hashes(&store).await.is_empty(), "a dry run writes no account");

    let first = stdout(&import(&store, &["postgres", &source_url, "--table", "users"]));
    assert!(first.starts_with("imported 3 accounts, skipped 2\n"), "{first}");
    assert!(first.contains("(dup@example.com): same address after normalisation as users row"), "{first}");
    assert!(first.contains("(DUP@example.com): same address after normalisation as users row"), "{first}");
    assert!(!first.contains("$2"), "no hash is printed");
    assert!(first.contains("3 of them keep a bcrypt password hash"), "{first}");
    assert!(first.contains("IMPORTED_BCRYPT_HASHES=true"), "the summary says what to set: {first}");
    let stored = stored_hashes(&store).await;
    let emails: Vec<&str> = stored.iter().map(|(email, _)| email.as_str()).collect();
    assert_eq!(
        emails,
        ["ann@example.com", "bob@example.com", "carol@example.com"],
        "normalised as at sign-up"
    );
    for ((_, hash), (_, _, prefix)) in stored.iter().zip(PEOPLE) {
        assert!(hash.as_deref().unwrap().starts_with(&format!("{prefix}12$")), "stored as it was: {hash:?}");
    }

    let server = start(&[
        ("DATABASE_URL", store.url()),
        ("RATE_LIMIT_PER_IP", "1000"),
        ("IMPORTED_BCRYPT_HASHES", "true"),
    ]);
    let client = reqwest::Client::new();
    let base = format!("{}/auth", server.address);
    for (email, password, _) in PEOPLE {
        let credentials = json!({ "email": email, "password": password });
        let (status, body) = post(&client, format!("{base}/login"), credentials.clone()).await;
        // Their address was proven by the old service, not by a code here yet: the first
        // log-in asks for one, as for any account whose last code check is old.
        assert_eq!((status, &body["otp_required"]), (202, &json!(true)), "{email}: {body}");
        let verify = json!({ "email": email, "code": newest_code(&server.mail_dir) });
        let (status, tokens) = post(&client, format!("{base}/verify-otp"), verify).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["user"]["created_at"], "2024-03-01T09:00:00Z");
        assert_eq!(tokens["user"]["has_password"], true);
        let (status, again) = post(&client, format!("{base}/login"), credentials).await;
        assert_eq!(status, 200, "the old password, now under Argon2id: {again}");
        let wrong = json!({ "email": email, "password": "not the old password" });
        assert_eq!(post(&client, format!("{base}/login"), wrong).await.0, 401);
    }
    for (email, hash) in stored_hashes(&store).await {
        assert!(hash.as_deref().unwrap().starts_with("$argon2id$"), "{email}: replaced at the first log-in");
    }
    stop(server);

    let second = stdout(&import(&store, &["postgres", &source_url]));
    assert!(second.starts_with("imported 0 accounts, skipped 5\n"), "{second}");
    assert_eq!(second.matches("already present").count(), 3, "{second}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_services_mongoexport_users_sign_in_with_a_code() {
    let store = TestDatabase::reserved().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.json");
    let export = [
        r#"{"_id":{"$oid":"665f1c2e9b1e8a3d4c5b6a01"},"email":"Dora@Example.com","is_verified":true,"created_at":{"$date":"2024-05-01T10:00:00Z"},"last_login":{"$date":"2024-06-01T08:30:00Z"}}"#,
        r#"{"_id":{"$oid":"665f1c2e9b1e8a3d4c5b6a02"},"email":"eve@example.com","is_verified":false,"created_at":{"$date":{"$numberLong":"1714557600000"}},"last_login":null}"#,
        r#"{"_id":{"$oid":"665f1c2e9b1e8a3d4c5b6a03"},"email":"not an address","is_verified":true}"#,
    ];
    std::fs::write(&file, export.join("\n")).unwrap();
    let path = file.to_str().unwrap();

    let first = stdout(&import(&store, &["mongoexport", path]));
    assert!(first.starts_with("imported 2 accounts, skipped 1\n"), "{first}");
    assert!(
        first.contains("skipped _id 665f1c2e9b1e8a3d4c5b6a03 (not an address): invalid address"),
        "{first}"
    );

    let server = start(&[
        ("DATABASE_URL", store.url()),
        ("RATE_LIMIT_PER_IP", "1000"),
        ("IMPORTED_BCRYPT_HASHES", "true"),
    ]);
    let client = reqwest::Client::new();
    let base = format!("{}/api/auth", server.address);
    for (email, verified_at) in
        [("dora@example.com", Value::from("2024-05-01T10:00:00Z")), ("eve@example.com", Value::Null)]
    {
        let (status, sent) = post(&client, format!("{base}/send-otp"), json!({ "email": email })).await;
        assert_eq!(status, 202, "{sent}");
        let verify = json!({ "email": email, "otp": newest_code(&server.mail_dir) });
        let (status, tokens) = post(&client, format!("{base}/verify-otp"), verify).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["user"]["created_at"], "2024-05-01T10:00:00Z", "the imported account");
        if verified_at.is_string() {
            assert_eq!(tokens["user"]["email_verified_at"], verified_at, "verified since its creation");
        }
    }
    stop(server);

    let second = stdout(&import(&store, &["mongoexport", path]));
    assert!(second.starts_with("imported 0 accounts, skipped 3\n"), "{second}");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_without_a_store_or_with_a_missing_table_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(dir.path()).args(["import", "mongoexport", "users.json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL is not set"));

    let (source, store) = (TestDatabase::empty().await, TestDatabase::reserved().await);
    let output = command(dir.path())
        .args(["import", "postgres", source.url(), "--table", "accounts"])
        .env("DATABASE_URL", store.url())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("reading the accounts in accounts") && stderr.contains("does not exist"),
        "{stderr}"
    );
}
