//! The language of mail: the account's stored locale, else the request's
//! `Accept-Language` (narrowed to a language with texts), else `DEFAULT_LOCALE`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_problem, email, spawn_app, spawn_app_with, unique_email};

async fn send_otp_in(app: &TestApp, address: &str, accept_language: &str) {
    let response = app
        .client
        .post(app.url("/auth/send-otp"))
        .header("Accept-Language", accept_language)
        .json(&json!({ "email": address }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

fn language_of_last_mail(app: &TestApp, address: &str) -> Option<String> {
    let message = app.mailer.last_to(&email(address)).unwrap();
    message.locale.map(|locale| locale.as_str().to_owned())
}

async fn put_locale(app: &TestApp, token: &str, locale: Value) -> reqwest::Response {
    let body = json!({ "locale": locale });
    app.client.put(app.url("/auth/me/locale")).bearer_auth(token).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn accept_language_picks_the_first_language_with_texts() {
    let app = spawn_app().await;
    let address = unique_email();
    send_otp_in(&app, &address, "it, de-AT;q=0.9, en;q=0.5").await;
    assert_eq!(language_of_last_mail(&app, &address).as_deref(), Some("de"));
    app.wait_out_cooldown();
    send_otp_in(&app, &address, "it, pt").await;
    assert_eq!(language_of_last_mail(&app, &address), None, "none served: the server's default applies");
}

#[tokio::test]
async fn a_locale_chosen_at_registration_wins_over_the_header() {
    let app = spawn_app().await;
    let address = unique_email();
    let body = json!({ "email": address, "password": PASSWORD, "locale": "fr" });
    let response = app
        .client
        .post(app.url("/auth/register"))
        .header("Accept-Language", "de")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(language_of_last_mail(&app, &address).as_deref(), Some("fr"));
    let code = app.last_code(&address);
    let tokens: Value = app.verify_otp(&address, &code).await.json().await.unwrap();
    assert_eq!(tokens["user"]["locale"], "fr");

    app.wait_out_cooldown();
    send_otp_in(&app, &address, "de").await;
    assert_eq!(language_of_last_mail(&app, &address).as_deref(), Some("fr"), "the stored locale wins");
}

#[tokio::test]
async fn the_page_stores_a_locale_that_wins_until_cleared() {
    let app = spawn_app().await;
    let address = unique_email();
    let tokens = app.sign_in(&address).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(tokens["user"]["locale"], Value::Null, "a passwordless sign-in stores no language");

    let response = put_locale(&app, &access, json!("es")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["locale"], "es");
    let me: Value = app.get_with_token("/auth/me", &access).await.json().await.unwrap();
    assert_eq!(me["locale"], "es");

    app.wait_out_cooldown();
    send_otp_in(&app, &address, "de").await;
    assert_eq!(language_of_last_mail(&app, &address).as_deref(), Some("es"));

    assert_eq!(put_locale(&app, &access, Value::Null).await.status(), StatusCode::OK);
    app.wait_out_cooldown();
    send_otp_in(&app, &address, "de").await;
    assert_eq!(
        language_of_last_mail(&app, &address).as_deref(),
        Some("de"),
        "cleared: the header counts again"
    );
}

#[tokio::test]
async fn a_language_without_texts_or_without_a_token_is_refused() {
    let app = spawn_app().await;
    let tokens = app.sign_in(&unique_email()).await;
    let access = tokens["access_token"].as_str().unwrap();
    for bad in [json!("it"), json!("not a tag"), json!(42)] {
        let response = put_locale(&app, access, bad.clone()).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let refused = put_locale(&app, "v4.public.nope", json!("fr")).await;
    assert_problem(refused, StatusCode::UNAUTHORIZED, "token_invalid").await;
    let body = json!({ "email": unique_email(), "password": PASSWORD, "locale": "klingon" });
    assert_problem(
        app.post("/auth/register", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn an_operator_language_becomes_available_from_the_template_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("messages")).unwrap();
    std::fs::write(dir.path().join("messages/it.txt"), "sign_in_code.subject = Il tuo codice\n").unwrap();
    let template_dir = dir.path().to_owned();
    let app = spawn_app_with(move |settings| settings.mail_template_dir = Some(template_dir)).await;
    let address = unique_email();
    send_otp_in(&app, &address, "it").await;
    assert_eq!(language_of_last_mail(&app, &address).as_deref(), Some("it"));
}
