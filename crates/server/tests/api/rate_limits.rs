use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, spawn_app_with, unique_email};

#[tokio::test]
async fn the_per_ip_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(|settings| settings.rate_limit_per_ip = 3).await;
    for _ in 0..3 {
        assert_eq!(app.send_otp(&unique_email()).await.status(), StatusCode::ACCEPTED);
    }
    let response = app.send_otp(&unique_email()).await;
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let other_endpoint = app.post("/auth/password/forgot", &json!({ "email": unique_email() })).await;
    assert_eq!(other_endpoint.status(), StatusCode::ACCEPTED, "each endpoint has its own budget");
    app.clock.advance(std::time::Duration::from_secs(60));
    assert_eq!(app.send_otp(&unique_email()).await.status(), StatusCode::ACCEPTED, "the window slides");
}

#[tokio::test]
async fn the_per_email_limit_holds_whatever_the_client_address() {
    let app = spawn_app_with(|settings| {
        settings.rate_limit_per_email = 2;
        settings.otp_resend_cooldown_seconds = 0;
        settings.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    let address = unique_email();
    for client in ["198.51.100.1", "198.51.100.2"] {
        let response = app
            .client
            .post(app.url("/auth/send-otp"))
            .header("x-forwarded-for", client)
            .json(&json!({ "email": address }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let response = app
        .client
        .post(app.url("/auth/send-otp"))
        .header("x-forwarded-for", "198.51.100.3")
        .json(&json!({ "email": address }))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    for (trusted, expect_limited) in [("127.0.0.1", false), ("", true)] {
        let app = spawn_app_with(|settings| {
            settings.rate_limit_per_ip = 1;
            settings.trusted_proxies = trusted.into();
        })
        .await;
        let mut statuses = Vec::new();
        for client in ["203.0.113.1", "203.0.113.2"] {
            let response = app
                .client
                .post(app.url("/auth/send-otp"))
                .header("x-forwarded-for", client)
                .json(&json!({ "email": unique_email() }))
                .send()
                .await
                .unwrap();
            statuses.push(response.status());
        }
        let limited = statuses[1] == StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(limited, expect_limited, "trusted={trusted:?} statuses={statuses:?}");
    }
}

#[tokio::test]
async fn wrong_passwords_are_rate_limited_per_address() {
    let app = spawn_app_with(|settings| settings.rate_limit_per_email = 3).await;
    let address = unique_email();
    for _ in 0..3 {
        assert_eq!(app.login(&address, "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_problem(
        app.login(&address, "wrong password").await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}
