//! New passwords that are easy to guess are refused at registration and reset.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with, unique_email};

const WEAK: [&str; 4] = ["password", "12345678", "qwertyuiop", "iloveyou1"];

#[tokio::test]
async fn common_passwords_are_refused_at_registration_alike_for_every_address() {
    let app = spawn_app().await;
    let known = unique_email();
    app.register_verified(&known).await;
    for weak in WEAK {
        let mut bodies = Vec::new();
        for address in [known.clone(), unique_email()] {
            let response = app.post("/auth/register", &json!({ "email": address, "password": weak })).await;
            let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "password_too_weak").await;
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.contains("too easy to guess") && detail.contains("words"), "{detail}");
            bodies.push(body);
        }
        assert_eq!(bodies[0], bodies[1], "the same answer for a known and an unknown address");
    }
    let own_address = unique_email();
    let response =
        app.post("/auth/register", &json!({ "email": own_address, "password": own_address })).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "password_too_weak").await;
    let accepted =
        app.post("/auth/register", &json!({ "email": unique_email(), "password": PASSWORD })).await;
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_weak_new_password_is_refused_at_reset_and_leaves_the_code_usable() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    app.post("/auth/password/forgot", &json!({ "email": address })).await;
    let code = app.last_code(&address);
    for weak in WEAK {
        let body = json!({ "email": address, "code": code, "new_password": weak });
        let response = app.post("/auth/password/reset", &body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "password_too_weak").await;
    }
    assert_eq!(app.login(&address, PASSWORD).await.status(), StatusCode::OK, "the old password stands");
    let strong = "plum kettle harbour violin";
    let body = json!({ "email": address, "code": code, "new_password": strong });
    assert_eq!(app.post("/auth/password/reset", &body).await.status(), StatusCode::OK);
    assert_eq!(app.login(&address, strong).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_min_strength_raises_the_bar() {
    let app = spawn_app_with(|settings| settings.password_min_strength = 4).await;
    // Strength 3 ("safely unguessable" online) but not 4.
    let response =
        app.post("/auth/register", &json!({ "email": unique_email(), "password": "plum kettle" })).await;
    let body: Value = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "password_too_weak").await;
    assert!(body["detail"].as_str().unwrap().contains("at least 4"), "{body}");
    let default = spawn_app().await;
    let response =
        default.post("/auth/register", &json!({ "email": unique_email(), "password": "plum kettle" })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}
