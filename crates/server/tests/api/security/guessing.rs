//! Attack 5: guessing is capped per address. After `OTP_MAX_FAILURES_PER_DAY` guesses
//! from clients without the account's device, the right code from a new client is
//! refused; the owner's remembered device still signs in, and the owner is told once.

use otp_core::domain::MailKind;
use reqwest::StatusCode;

use super::{Browser, spawn_behind_proxy_with};
use crate::helpers::{assert_problem, email, unique_email};

/// A wrong code: any six digits but the ones just mailed.
fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
async fn after_a_hundred_wrong_codes_from_many_clients_a_new_client_is_locked_out_but_not_the_owners_device()
{
    // The per-address hourly budgets would spread a hundred guesses over ten hours;
    // they are raised here so the cap, not the budgets, is what stops the guessing.
    let app = spawn_behind_proxy_with(|settings| settings.rate_limit_per_email = 1000).await;
    let mut owner = Browser::new(&app, 2);
    let victim = unique_email();
    owner.send_otp(&victim).await;
    owner.signed_in_with(&victim, &app.last_code(&victim)).await;

    let mut locked = 0;
    for guess in 0..100 {
        let stranger = Browser::new(&app, 20 + (guess % 100) as u8);
        if guess % 5 == 0 {
            app.wait_out_cooldown();
            stranger.send_otp(&victim).await;
        }
        let response = stranger.verify_otp(&victim, wrong(&app.last_code(&victim))).await;
        match response.status() {
            StatusCode::BAD_REQUEST => {}
            StatusCode::TOO_MANY_REQUESTS => locked += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(locked >= 1, "the hundredth check is past the cap (the owner's first sign-in counted too)");

    app.wait_out_cooldown();
    let newcomer = Browser::new(&app, 200);
    assert_eq!(newcomer.send_otp(&victim).await.status(), StatusCode::ACCEPTED);
    let right = newcomer.verify_otp(&victim, &app.last_code(&victim)).await;
    let retry_after: u64 = right.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 3600, "locked for most of a day: {retry_after}");
    assert_problem(right, StatusCode::TOO_MANY_REQUESTS, "otp_locked").await;

    let notices = app
        .mailer
        .messages()
        .into_iter()
        .filter(|m| m.to == email(&victim) && m.kind == MailKind::CodeSignInLocked);
    assert_eq!(notices.count(), 1, "the owner is told once");

    assert_eq!(owner.send_otp(&victim).await.status(), StatusCode::ACCEPTED);
    owner.signed_in_with(&victim, &app.last_code(&victim)).await;
}

#[tokio::test]
async fn the_cap_is_configurable_and_never_above_a_hundred() {
    let app = spawn_behind_proxy_with(|settings| settings.otp_max_failures_per_day = 3).await;
    let victim = unique_email();
    let stranger = Browser::new(&app, 9);
    stranger.send_otp(&victim).await;
    for _ in 0..3 {
        let response = stranger.verify_otp(&victim, wrong(&app.last_code(&victim))).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let right = stranger.verify_otp(&victim, &app.last_code(&victim)).await;
    assert_problem(right, StatusCode::TOO_MANY_REQUESTS, "otp_locked").await;
    // An address without an account gets no notice.
    assert!(app.mailer.messages().iter().all(|m| m.kind != MailKind::CodeSignInLocked));

    let settings = otp_server::Settings { otp_max_failures_per_day: 101, ..otp_server::Settings::default() };
    assert!(settings.policy().unwrap_err().to_string().contains("OTP_MAX_FAILURES_PER_DAY"));
}
