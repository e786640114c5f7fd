//! `GET /metrics`: Prometheus text that a Prometheus parser reads, whose counters move
//! with the requests that should move them.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_app_with, spawn_app_with_outbox, unique_email};

/// Parses one sample line of the Prometheus text format 0.0.4 strictly:
/// `name{label="value",...} value [timestamp]`, label values with `\\`, `\"` and `\n`
/// escapes. Returns the key `name{labels sorted}` and the value.
fn parse_sample(line: &str) -> Result<(String, f64), String> {
    let name_end =
        line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("bad metric name in {line:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find("=\"").ok_or_else(|| format!("no label value in {line:?}"))?;
            let label = &rest[..eq];
            if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad label name {label:?} in {line:?}"));
            }
            let mut value = String::new();
            let mut chars = rest[eq + 2..].char_indices();
            let close = loop {
                match chars.next() {
                    Some((at, '"')) => break at,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, escaped @ ('\\' | '"'))) => value.push(escaped),
                        _ => return Err(format!("bad escape in {line:?}")),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("unterminated label value in {line:?}")),
                }
            };
            labels.push(format!("{label}=\"{value}\""));
            rest = &rest[eq + 2 + close + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or_else(|| format!("no value in {line:?}"))?;
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().map_err(|_| format!("bad value in {line:?}"))?,
    };
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().map_err(|_| format!("bad timestamp in {line:?}"))?;
    }
    labels.sort();
    Ok((format!("{name}{{{}}}", labels.join(",")), value))
}

/// Every sample of `/metrics`, checked line by line as Prometheus text.
pub(crate) async fn scrape(app: &crate::helpers::TestApp) -> HashMap<String, f64> {
    let response = app.client.get(format!("{}/metrics", app.metrics_address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    let mut samples = HashMap::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.split_whitespace().collect();
            if words.first() == Some(&"TYPE") {
                assert!(
                    matches!(
                        words.get(2),
                        Some(&("counter" | "gauge" | "histogram" | "summary" | "untyped"))
                    ),
                    "bad TYPE line {line:?}"
                );
            }
            continue;
        }
        let (key, value) = parse_sample(line).unwrap_or_else(|error| panic!("{error}"));
        samples.insert(key, value);
    }
    samples
}

pub(crate) fn value(samples: &HashMap<String, f64>, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_with_the_requests_that_should_move_them() {
    let app = spawn_app_with(|settings| settings.rate_limit_per_email = 3).await;
    let before = scrape(&app).await;
    let address = unique_email();

    assert_eq!(app.send_otp(&address).await.status(), StatusCode::ACCEPTED);
    let wrong = app.verify_otp(&address, "000000").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let code = app.last_code(&address);
    assert_eq!(app.verify_otp(&address, &code).await.status(), StatusCode::OK);
    // A fourth verify for the address in the hour is over its budget of 3.
    assert_eq!(app.verify_otp(&address, &code).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.verify_otp(&address, &code).await.status(), StatusCode::TOO_MANY_REQUESTS);

    let after = scrape(&app).await;
    let moved = |key: &str| value(&after, key) - value(&before, key);
    assert_eq!(moved(r#"http_requests_total{method="POST",route="/auth/send-otp",status="202"}"#), 1.0);
    assert_eq!(moved(r#"http_requests_total{method="POST",route="/auth/verify-otp",status="400"}"#), 2.0);
    assert_eq!(moved(r#"http_requests_total{method="POST",route="/auth/verify-otp",status="200"}"#), 1.0);
    assert_eq!(moved(r#"http_requests_total{method="POST",route="/auth/verify-otp",status="429"}"#), 1.0);
    assert_eq!(
        moved(r#"http_request_duration_seconds_count{method="POST",route="/auth/send-otp",status="202"}"#),
        1.0
    );
    assert_eq!(moved(r#"otp_codes_issued_total{purpose="sign_in"}"#), 1.0);
    assert_eq!(moved(r#"otp_code_checks_total{outcome="rejected",purpose="sign_in"}"#), 1.0);
    assert_eq!(moved(r#"otp_code_checks_total{outcome="accepted",purpose="sign_in"}"#), 1.0);
    assert_eq!(moved(r#"otp_code_checks_total{outcome="not_found",purpose="sign_in"}"#), 1.0);
    assert_eq!(moved(r#"otp_rate_limited_total{action="verify_code",scope="email"}"#), 1.0);
}

#[tokio::test]
async fn lock_outs_are_counted_and_routes_are_labelled_by_pattern_not_path() {
    let app = spawn_app().await;
    let address = unique_email();
    assert_eq!(app.send_otp(&address).await.status(), StatusCode::ACCEPTED);
    for _ in 0..5 {
        app.verify_otp(&address, "000000").await;
    }
    assert_eq!(app.verify_otp(&address, "000000").await.status(), StatusCode::BAD_REQUEST);
    let token = crate::helpers::token(&app.sign_in(&unique_email()).await, "access_token");
    let session = uuid::Uuid::new_v4();
    let ended = app.delete_with_token(&format!("/auth/sessions/{session}"), &token).await;
    assert_eq!(ended.status(), StatusCode::NOT_FOUND, "{:?}", ended.text().await);
    app.post("/no/such/route", &json!({})).await;

    let samples = scrape(&app).await;
    assert!(value(&samples, r#"otp_code_checks_total{outcome="locked_out",purpose="sign_in"}"#) >= 1.0);
    assert!(samples.keys().any(|key| key.contains(r#"route="/auth/sessions/{id}""#)), "{samples:?}");
    assert!(!samples.keys().any(|key| key.contains(&session.to_string())), "no raw path becomes a label");
    assert!(samples.keys().any(|key| key.contains(r#"route="unmatched""#)));
    assert!(!samples.keys().any(|key| key.contains(&address)), "no address becomes a label");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_api_port() {
    let app = spawn_app().await;
    assert_ne!(app.metrics_address, app.address);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    assert!(!scrape(&app).await.is_empty());
    let api_on_metrics = app.client.get(format!("{}/auth/keys", app.metrics_address)).send().await.unwrap();
    assert_eq!(api_on_metrics.status(), StatusCode::NOT_FOUND, "the metrics listener serves nothing else");
}

/// The series a request moved: every counter and histogram count whose value changed,
/// with the change (latency buckets and sums, and gauges, depend on timing, not on the
/// request, and are left out).
fn moved_series(before: &HashMap<String, f64>, after: &HashMap<String, f64>) -> Vec<(String, f64)> {
    let timing = |key: &str| {
        key.starts_with("http_request_duration_seconds_bucket")
            || key.starts_with("http_request_duration_seconds_sum")
            || key.starts_with("otp_pool_")
            || key.starts_with("otp_mail_outbox_depth")
    };
    let mut moved: Vec<(String, f64)> = after
        .iter()
        .filter(|(key, _)| !timing(key))
        .map(|(key, now)| (key.clone(), now - value(before, key)))
        .filter(|(_, change)| *change != 0.0)
        .collect();
    moved.sort_by(|a, b| a.0.cmp(&b.0));
    moved
}

/// Asks for a reset of `address` and waits until its message is delivered; returns the
/// series the request moved.
async fn forgot_and_deliver(app: &TestApp, address: &str) -> Vec<(String, f64)> {
    let delivered = r#"otp_mail_delivered_total{flow="password_reset"}"#;
    let before = scrape(app).await;
    let response = app.post("/auth/password/forgot", &json!({ "email": address })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    for _ in 0..100 {
        let after = scrape(app).await;
        if value(&after, delivered) > value(&before, delivered) {
            return moved_series(&before, &after);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the reset mail was not delivered");
}

#[tokio::test]
async fn password_forgot_moves_the_same_series_for_known_and_unknown_addresses() {
    let app = spawn_app_with_outbox(|_| {}).await;
    let known = unique_email();
    let registered =
        app.post("/auth/register", &json!({ "email": known, "password": crate::helpers::PASSWORD })).await;
    assert_eq!(registered.status(), StatusCode::ACCEPTED);
    // Let the registration mail go out before measuring.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let for_known = forgot_and_deliver(&app, &known).await;
    let for_unknown = forgot_and_deliver(&app, &unique_email()).await;
    assert_eq!(for_known, for_unknown);
    assert!(for_known.iter().any(|(key, _)| key.starts_with("otp_mail_queued_total")), "{for_known:?}");
}
