use otp_core::domain::MailKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, email, spawn_app, unique_email};

#[tokio::test]
async fn register_then_verify_signs_in_with_a_password_account() {
    let app = spawn_app().await;
    let address = unique_email();
    let tokens = app.register_verified(&address).await;
    assert_eq!(tokens["user"]["has_password"], true);
    assert_eq!(tokens["user"]["email_verified"], true);
    let message = app.mailer.messages().into_iter().find(|m| m.to == email(&address)).unwrap();
    assert!(matches!(message.kind, MailKind::RegistrationCode { .. }));
}

#[tokio::test]
async fn registering_an_existing_account_answers_the_same_and_mails_a_notice() {
    let app = spawn_app().await;
    let existing = unique_email();
    app.register_verified(&existing).await;
    app.wait_out_cooldown();
    let again =
        app.post("/auth/register", &json!({ "email": existing, "password": "another password" })).await;
    let fresh_address = unique_email();
    let fresh =
        app.post("/auth/register", &json!({ "email": fresh_address, "password": "another password" })).await;
    assert_eq!((again.status(), fresh.status()), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let (mut again, mut fresh): (Value, Value) = (again.json().await.unwrap(), fresh.json().await.unwrap());
    assert_eq!((again["email"].take(), fresh["email"].take()), (json!(existing), json!(fresh_address)));
    // Each answer has a registration token of its own, of the same shape.
    let (ours, theirs) = (again["registration_token"].take(), fresh["registration_token"].take());
    assert_eq!(ours.as_str().unwrap().len(), theirs.as_str().unwrap().len());
    assert_eq!(again, fresh);

    let notice = app.mailer.last_to(&email(&existing)).unwrap();
    assert_eq!(notice.kind, MailKind::AccountExists);
    assert!(notice.kind.code().is_none());
    assert_eq!(app.login(&existing, PASSWORD).await.status(), StatusCode::OK, "the old password still works");
    assert_eq!(app.login(&existing, "another password").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn re_registering_an_unverified_address_replaces_its_password() {
    let app = spawn_app().await;
    let address = unique_email();
    app.post("/auth/register", &json!({ "email": address, "password": "first password" })).await;
    app.wait_out_cooldown();
    let response =
        app.post("/auth/register", &json!({ "email": address, "password": "second password" })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let code = app.last_code(&address);
    assert_eq!(app.verify_otp(&address, &code).await.status(), StatusCode::OK);
    assert_eq!(app.login(&address, "second password").await.status(), StatusCode::OK);
    assert_eq!(app.login(&address, "first password").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unverified_account_cannot_log_in_until_verified() {
    let app = spawn_app().await;
    let address = unique_email();
    app.post("/auth/register", &json!({ "email": address, "password": PASSWORD })).await;
    let pending =
        assert_problem(app.login(&address, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials")
            .await;
    let wrong = assert_problem(
        app.login(&address, "wrong password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(pending, wrong, "a pending password answers exactly like a wrong one");
    assert_problem(
        app.login(&address, "wrong password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn resend_sends_a_new_registration_code() {
    let app = spawn_app().await;
    let address = unique_email();
    app.post("/auth/register", &json!({ "email": address, "password": PASSWORD })).await;
    app.wait_out_cooldown();
    let response = app.post("/auth/resend-otp", &json!({ "email": address })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let message = app.mailer.last_to(&email(&address)).unwrap();
    assert!(matches!(message.kind, MailKind::RegistrationCode { .. }));
    let code = app.last_code(&address);
    let tokens: Value = app.verify_otp(&address, &code).await.json().await.unwrap();
    assert_eq!(tokens["user"]["has_password"], true);
}

#[tokio::test]
async fn passwords_outside_eight_to_128_characters_are_refused() {
    let app = spawn_app().await;
    for password in ["short".to_owned(), "x".repeat(129)] {
        let response =
            app.post("/auth/register", &json!({ "email": unique_email(), "password": password })).await;
        let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert!(body["detail"].as_str().unwrap().starts_with("password must be"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_registrations_of_one_address_make_one_account() {
    let app = std::sync::Arc::new(spawn_app().await);
    let address = unique_email();
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let (app, body) =
                (app.clone(), json!({ "email": address, "password": format!("password number {n}") }));
            tokio::spawn(async move {
                let response = app.post("/auth/register", &body).await;
                let status = response.status();
                let answer: Value = response.json().await.unwrap_or_default();
                (status, answer["code"].as_str().unwrap_or_default().to_owned())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let accepted = answers.iter().filter(|(status, _)| *status == StatusCode::ACCEPTED).count();
    assert_eq!(accepted, 1, "{answers:?}");
    // The others are throttled, or (those that got past the throttle) find the Argon2
    // queue full, as any burst beyond PASSWORD_HASH_QUEUE does.
    assert!(
        answers.iter().all(|(status, code)| *status == StatusCode::ACCEPTED
            || *status == StatusCode::TOO_MANY_REQUESTS
            || (*status == StatusCode::SERVICE_UNAVAILABLE && code == "server_busy")),
        "{answers:?}"
    );
    let codes: Vec<_> = app.mailer.messages().into_iter().filter(|m| m.to == email(&address)).collect();
    assert_eq!(codes.len(), 1);
    let tokens: Value = app.verify_otp(&address, &app.last_code(&address)).await.json().await.unwrap();
    assert_eq!(tokens["user"]["has_password"], true);
}
