//! An account deleted while one of its log-ins runs: the log-in answers 403
//! `account_disabled`, as for a disabled account, never 500. The race is made
//! deterministic by holding the deletion open in a transaction until the log-in
//! waits for the account's row, then committing it.

use std::sync::Arc;
use std::time::Duration;

use otp_memory::{ManualClock, RecordingMailer};
use otp_server::Settings;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_problem, claims_of, email, start_instance, token, unique_email, use_real_stores,
    with_shared_secrets,
};

/// Waits until some statement of the database waits for a lock (the log-in, for the
/// account row the open deletion holds); fails the test after 10 s.
async fn until_a_statement_waits_for_a_lock(admin: &tokio_postgres::Client) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no statement waited for the deleted account's row");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_in_racing_its_accounts_deletion_answers_account_disabled() {
    let mut settings =
        Settings { port: 0, metrics_addr: String::new(), workers: Some(2), ..Settings::default() };
    let _stores = use_real_stores(&mut settings).await;
    with_shared_secrets(&mut settings);
    let (mailer, clock) = (Arc::new(RecordingMailer::new()), Arc::new(ManualClock::starting_now()));
    let (base, _, _handle) = start_instance(&settings, mailer.clone(), clock).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();

    // A registered account, whose code check lets this client log in by password.
    let address = unique_email();
    let credentials = json!({ "email": address, "password": PASSWORD });
    let registered = post("/auth/register", credentials.clone()).await.unwrap();
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    let code = mailer.last_code_for(&email(&address)).unwrap();
    let verified: Value = post("/auth/verify-otp", json!({ "email": address, "code": code }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = claims_of(&token(&verified, "access_token"))["sub"].as_str().unwrap().to_owned();

    // The deletion takes the account row and stays open while the log-in runs: the
    // log-in reads the account as it was, checks the password, then waits for the row
    // to store its session.
    let url = settings.database_url.as_ref().unwrap().expose_secret().to_owned();
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    admin.batch_execute("BEGIN").await.unwrap();
    let deleted = admin.execute("DELETE FROM users WHERE id = $1::text::uuid", &[&user_id]).await.unwrap();
    assert_eq!(deleted, 1);
    let log_in = tokio::spawn(post("/auth/login", credentials));
    until_a_statement_waits_for_a_lock(&admin).await;
    admin.batch_execute("COMMIT").await.unwrap();

    assert_problem(log_in.await.unwrap().unwrap(), StatusCode::FORBIDDEN, "account_disabled").await;
}
