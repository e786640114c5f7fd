//! Keys fetched from a real HTTP server answering like otp-server's `/auth/keys`.

use std::time::Duration;

use otp_verify::{FetchError, RefreshPolicy, Verifier, VerifyError};
use tokio::task::JoinSet;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Issuer, dead_port, key_fetches, keys_answer, serve_keys};

fn verifier(server: &MockServer, policy: RefreshPolicy) -> Verifier {
    Verifier::builder()
        .keys_url(format!("{}/auth/keys", server.uri()))
        .refresh_policy(policy)
        .build()
        .unwrap()
}

/// Waits (a bounded time) until `/auth/keys` was asked `count` times.
async fn until_fetched(server: &MockServer, count: usize) {
    for _ in 0..100 {
        if key_fetches(server).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("expected {count} fetches, saw {}", key_fetches(server).await);
}

#[tokio::test]
async fn keys_are_fetched_once_and_then_reused() {
    let server = MockServer::start().await;
    let issuer = Issuer::new();
    serve_keys(&server, &issuer, "public, max-age=300").await;
    let verifier = verifier(&server, RefreshPolicy::default());
    for _ in 0..3 {
        let token = issuer.token();
        assert_eq!(
            verifier.verify(&token).await.unwrap().subject,
            issuer.claims_of(&token).user_id.as_uuid()
        );
    }
    assert_eq!(key_fetches(&server).await, 1);
}

#[tokio::test]
async fn the_published_issuer_and_audience_are_expected_unless_pinned() {
    let server = MockServer::start().await;
    let issuer = Issuer::new();
    serve_keys(&server, &issuer, "max-age=300").await;
    let for_billing = issuer.claiming("otp-auth", "billing").token();
    let published = verifier(&server, RefreshPolicy::default());
    assert!(matches!(published.verify(&for_billing).await, Err(VerifyError::WrongAudience)));
    let pinned = Verifier::builder()
        .keys_url(format!("{}/auth/keys", server.uri()))
        .audience("billing")
        .build()
        .unwrap();
    assert!(pinned.verify(&for_billing).await.is_ok());
    assert!(matches!(pinned.verify(&issuer.token()).await, Err(VerifyError::WrongAudience)));
}

#[tokio::test]
async fn an_unknown_key_id_makes_exactly_one_refetch() {
    let server = MockServer::start().await;
    let issuer = Issuer::new();
    serve_keys(&server, &issuer, "max-age=300").await;
    let verifier = verifier(&server, RefreshPolicy::default());
    assert!(verifier.verify(&issuer.token()).await.is_ok());
    assert_eq!(key_fetches(&server).await, 1);
    let stranger = Issuer::new();
    for _ in 0..5 {
        assert!(matches!(verifier.verify(&stranger.token()).await, Err(VerifyError::UnknownKey)));
    }
    assert_eq!(
        key_fetches(&server).await,
        2,
        "one refetch for the unknown key, then none within the interval"
    );
    assert!(verifier.verify(&issuer.token()).await.is_ok());
    assert_eq!(key_fetches(&server).await, 2);
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_without_a_restart() {
    let server = MockServer::start().await;
    let before = Issuer::new();
    serve_keys(&server, &before, "public, max-age=300").await;
    let verifier = verifier(&server, RefreshPolicy::default());
    let old_token = before.token();
    assert!(verifier.verify(&old_token).await.is_ok());

    let after = before.rotated();
    serve_keys(&server, &after, "public, max-age=300").await;
    let new_token = after.token();
    assert!(verifier.verify(&new_token).await.is_ok(), "the new key is fetched on first sight");
    assert!(verifier.verify(&old_token).await.is_ok(), "the previous key is still listed");
    assert_eq!(key_fetches(&server).await, 1, "exactly one fetch since the rotation");
}

#[tokio::test]
async fn cache_control_max_age_decides_when_keys_are_fetched_again() {
    let short = MockServer::start().await;
    let long = MockServer::start().await;
    let issuer = Issuer::new();
    serve_keys(&short, &issuer, "public, max-age=1").await;
    serve_keys(&long, &issuer, "public, max-age=300").await;
    let policy = RefreshPolicy::default().min_ttl(Duration::ZERO);
    let (fresh_for_1s, fresh_for_300s) = (verifier(&short, policy.clone()), verifier(&long, policy));
    let token = issuer.token();
    assert!(fresh_for_1s.verify(&token).await.is_ok() && fresh_for_300s.verify(&token).await.is_ok());
    assert!(fresh_for_1s.verify(&token).await.is_ok());
    assert_eq!(key_fetches(&short).await, 1, "fresh for one second");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(fresh_for_1s.verify(&token).await.is_ok(), "stale keys serve while they are refreshed");
    assert!(fresh_for_300s.verify(&token).await.is_ok());
    until_fetched(&short, 2).await;
    assert_eq!(key_fetches(&long).await, 1, "still fresh after a second");
}

#[tokio::test]
async fn concurrent_lookups_share_one_fetch() {
    let server = MockServer::start().await;
    let issuer = Issuer::new();
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(keys_answer(&issuer, "max-age=300").set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let verifier = verifier(&server, RefreshPolicy::default());
    let mut requests = JoinSet::new();
    for _ in 0..20 {
        let (verifier, token) = (verifier.clone(), issuer.token());
        requests.spawn(async move { verifier.verify(&token).await });
    }
    while let Some(outcome) = requests.join_next().await {
        assert!(outcome.unwrap().is_ok());
    }
    assert_eq!(key_fetches(&server).await, 1);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_keys_until_they_are_too_stale() {
    let server = MockServer::start().await;
    let issuer = Issuer::new();
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(keys_answer(&issuer, "max-age=1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let policy = RefreshPolicy::default()
        .min_ttl(Duration::ZERO)
        .max_stale(Duration::from_secs(2))
        .retry_after_failure(Duration::from_millis(100));
    let verifier = verifier(&server, policy);
    let token = issuer.token();
    let fetched = tokio::time::Instant::now();
    assert!(verifier.verify(&token).await.is_ok());

    // Fresh for 1 s, then usable for 2 s more.
    tokio::time::sleep_until(fetched + Duration::from_millis(1100)).await;
    assert!(verifier.verify(&token).await.is_ok(), "stale keys still serve");
    until_fetched(&server, 2).await;
    assert!(verifier.verify(&token).await.is_ok(), "a failed refresh keeps them");

    tokio::time::sleep_until(fetched + Duration::from_millis(3100)).await;
    let error = verifier.verify(&token).await.unwrap_err();
    let VerifyError::KeysUnavailable(cause) = &error else { panic!("{error:?}") };
    assert!(matches!(**cause, FetchError::Status { status: 500, .. }), "{cause:?}");
    assert!(error.is_unavailable());
}

#[tokio::test]
async fn without_an_answer_no_token_verifies_and_the_server_is_not_hammered() {
    let verifier =
        Verifier::builder().keys_url(format!("http://127.0.0.1:{}/auth/keys", dead_port())).build().unwrap();
    let token = Issuer::new().token();
    let error = verifier.verify(&token).await.unwrap_err();
    assert!(
        matches!(&error, VerifyError::KeysUnavailable(cause) if matches!(**cause, FetchError::Transport { .. }))
    );
    let again = verifier.verify(&token).await.unwrap_err();
    assert!(again.is_unavailable(), "{again:?}");
}

#[tokio::test]
async fn oversized_or_foreign_answers_are_not_keys() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(100_000)))
        .mount(&server)
        .await;
    Mock::given(path("/html"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>"))
        .mount(&server)
        .await;
    Mock::given(path("/moved"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/auth/keys"))
        .mount(&server)
        .await;
    let token = Issuer::new().token();
    for (route, expected) in [("big", "TooLarge"), ("html", "Invalid"), ("moved", "Status")] {
        let verifier = Verifier::builder().keys_url(format!("{}/{route}", server.uri())).build().unwrap();
        let error = verifier.verify(&token).await.unwrap_err();
        let VerifyError::KeysUnavailable(cause) = &error else { panic!("{error:?}") };
        assert!(format!("{cause:?}").starts_with(expected), "{route}: {cause:?}");
    }
}
