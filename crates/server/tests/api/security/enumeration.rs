//! Attack 2, enumeration by register-then-login: the answers are the same for an
//! address with a verified account and for an unknown one.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Browser, spawn_behind_proxy};
use crate::helpers::{PASSWORD, unique_email};

#[tokio::test]
async fn register_then_login_answers_alike_for_a_verified_account_and_an_unknown_address() {
    let app = spawn_behind_proxy().await;
    let mut owner = Browser::new(&app, 10);
    let known = unique_email();
    owner.register(&known, PASSWORD).await;
    owner.signed_in_with(&known, &app.last_code(&known)).await;
    app.wait_out_cooldown();

    let prober = Browser::new(&app, 11);
    let mut answers = Vec::new();
    for address in [known.clone(), unique_email()] {
        let registered = prober.register(&address, "the prober's password").await;
        assert_eq!(registered.status(), StatusCode::ACCEPTED);
        let login = prober.login(&address, "the prober's password").await;
        let status = login.status();
        let headers: Vec<String> = login.headers().keys().map(|name| name.as_str().to_owned()).collect();
        let body: Value = login.json().await.unwrap();
        answers.push((status, body, headers.len()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1["code"], "invalid_credentials");
}
