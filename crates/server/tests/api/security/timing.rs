//! A benchmark, not a timed test (it is ignored by default): the median response times
//! of `password/forgot`, `send-otp` and `register` for addresses with a verified
//! account and for unknown ones, through the real outbox. Run it with
//! `cargo nextest run -p otp-server --test api --run-ignored only timing` (or
//! `--test api_real` for PostgreSQL + Redis); the results are in docs/benchmarks.md.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, spawn_app_with_outbox, unique_email};

const ROUNDS: usize = 200;

async fn timed(app: &TestApp, path: &str, body: serde_json::Value) -> Duration {
    let started = Instant::now();
    let response = app.post(path, &body).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{path}");
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
#[ignore = "a benchmark: run on demand, results in docs/benchmarks.md"]
async fn median_times_for_known_and_unknown_addresses() {
    let app = spawn_app_with_outbox(|settings| {
        settings.rate_limit_per_email = 100_000;
        settings.rate_limit_per_ip = 100_000;
    })
    .await;
    let known = unique_email();
    app.post("/auth/send-otp", &json!({ "email": known })).await;
    // The code goes through the outbox into the mail folder; read it back from there.
    let code = read_last_code(&app, &known).await;
    let verified = app.post("/auth/verify-otp", &json!({ "email": known, "code": code })).await;
    assert_eq!(verified.status(), StatusCode::OK);

    for (path, with_password) in
        [("/auth/password/forgot", false), ("/auth/send-otp", false), ("/auth/register", true)]
    {
        let (mut for_known, mut for_unknown) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            app.wait_out_cooldown();
            let body = |address: &str| {
                if with_password {
                    json!({ "email": address, "password": PASSWORD })
                } else {
                    json!({ "email": address })
                }
            };
            for_known.push(timed(&app, path, body(&known)).await);
            for_unknown.push(timed(&app, path, body(&unique_email())).await);
        }
        let (known_median, unknown_median) = (median(for_known), median(for_unknown));
        let ratio = known_median.as_secs_f64() / unknown_median.as_secs_f64();
        println!("{path}: known {known_median:?}, unknown {unknown_median:?}, ratio {ratio:.3}");
    }
}

/// The code of the newest message to `address` in the server's mail folder.
async fn read_last_code(app: &TestApp, address: &str) -> String {
    for _ in 0..100 {
        if let Some(code) = app.folder_code(address) {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no code mailed to {address}");
}
