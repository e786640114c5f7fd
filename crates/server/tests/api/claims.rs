//! What access tokens say about their holder: `email`, `email_verified`, `amr`, `role`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, claims_of, spawn_app, spawn_app_with, token, unique_email};

#[tokio::test]
async fn a_code_sign_in_says_otp_with_the_verified_address_and_no_role() {
    let app = spawn_app().await;
    let address = unique_email();
    let tokens = app.sign_in(&address).await;
    let claims = claims_of(&token(&tokens, "access_token"));
    assert_eq!(claims["sub"], tokens["user"]["id"]);
    assert_eq!(claims["email"], json!(address));
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["amr"], json!(["otp"]));
    assert!(claims.get("role").is_none(), "{claims}");
}

#[tokio::test]
async fn a_password_log_in_says_pwd_and_a_refresh_keeps_it() {
    let app = spawn_app().await;
    let address = unique_email();
    app.register_verified(&address).await;
    let login = app.login(&address, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    assert_eq!(claims_of(&token(&login, "access_token"))["amr"], json!(["pwd"]));
    let refreshed: Value = app.refresh(token(&login, "refresh_token")).await.json().await.unwrap();
    let claims = claims_of(&token(&refreshed, "access_token"));
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["email"], json!(address));
}

#[tokio::test]
async fn administrators_carry_the_admin_role() {
    let admin = unique_email();
    let configured = admin.clone();
    let app = spawn_app_with(|settings| settings.admin_email = Some(configured)).await;
    let tokens = app.sign_in(&admin).await;
    assert_eq!(claims_of(&token(&tokens, "access_token"))["role"], "admin");
    let other = app.sign_in(&unique_email()).await;
    assert!(claims_of(&token(&other, "access_token")).get("role").is_none());
}
