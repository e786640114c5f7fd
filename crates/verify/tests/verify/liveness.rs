//! The liveness check against a fake RFC 7662 introspection endpoint, so the request
//! phase 2's `POST /auth/introspect` must accept is pinned here.

use std::time::Duration;

use otp_verify::{FailureMode, Introspection, KeySet, Verifier, VerifyError};
use serde_json::json;
use tokio::task::JoinSet;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{AUDIENCE, ISSUER, Issuer};

const CREDENTIAL: &str = "svc_7Hq2-credential";

fn verifier(issuer: &Issuer, introspection: Introspection) -> Verifier {
    Verifier::builder()
        .public_keys(KeySet::parse(&issuer.paserks()).unwrap())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .liveness(introspection)
        .build()
        .unwrap()
}

fn introspection(server: &MockServer) -> Introspection {
    Introspection::new(&server.uri(), CREDENTIAL)
}

fn answer(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn introspections(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn a_live_session_passes_after_an_rfc_7662_request_and_the_answer_is_reused() {
    let server = MockServer::start().await;
    let issuer = Issuer::new();
    let token = issuer.token();
    let signed = issuer.claims_of(&token);
    Mock::given(method("POST"))
        .and(path("/auth/introspect"))
        .and(header("authorization", format!("Bearer {CREDENTIAL}").as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("accept", "application/json"))
        .and(body_string(format!("token={token}&token_type_hint=access_token")))
        .respond_with(answer(json!({
            "active": true, "sub": signed.user_id.as_uuid(), "sid": signed.session_id.as_uuid(),
            "jti": signed.token_id, "token_type": "access_token", "exp": signed.expires_at.unix_timestamp(),
        })))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = verifier(&issuer, introspection(&server));
    for _ in 0..3 {
        assert_eq!(verifier.verify(&token).await.unwrap().subject, signed.user_id.as_uuid());
    }
    server.verify().await;
}

#[tokio::test]
async fn an_ended_session_is_refused_and_remembered() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/introspect")).respond_with(answer(json!({"active": false}))).mount(&server).await;
    let issuer = Issuer::new();
    let verifier = verifier(&issuer, introspection(&server));
    let token = issuer.token();
    for _ in 0..3 {
        let error = verifier.verify(&token).await.unwrap_err();
        assert!(matches!(error, VerifyError::Inactive) && !error.is_unavailable(), "{error:?}");
    }
    assert_eq!(introspections(&server).await, 1);
}

#[tokio::test]
async fn a_logout_is_seen_once_the_cached_answer_expires() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/introspect"))
        .respond_with(answer(json!({"active": true})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/auth/introspect")).respond_with(answer(json!({"active": false}))).mount(&server).await;
    let issuer = Issuer::new();
    let verifier = verifier(&issuer, introspection(&server).cache_for(Duration::from_secs(1)));
    let token = issuer.token();
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok(), "within the cache time");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(verifier.verify(&token).await, Err(VerifyError::Inactive)));
    assert_eq!(introspections(&server).await, 2);
}

#[tokio::test]
async fn no_answer_fails_closed_by_default_and_open_when_configured() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/introspect")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let issuer = Issuer::new();
    let token = issuer.token();
    let closed = verifier(&issuer, introspection(&server));
    let error = closed.verify(&token).await.unwrap_err();
    assert!(matches!(error, VerifyError::LivenessUnavailable(_)) && error.is_unavailable(), "{error:?}");
    let open = verifier(&issuer, introspection(&server).on_failure(FailureMode::Open));
    assert!(open.verify(&token).await.is_ok());
    assert!(
        open.verify(&issuer.token_at(time::OffsetDateTime::now_utc() - time::Duration::hours(2)))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_refused_credential_or_an_odd_answer_is_no_answer() {
    let server = MockServer::start().await;
    Mock::given(path("/refused/auth/introspect"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/odd/auth/introspect"))
        .respond_with(answer(json!({"valid": true})))
        .mount(&server)
        .await;
    Mock::given(path("/other/auth/introspect"))
        .respond_with(answer(json!({"active": true, "sub": uuid::Uuid::new_v4()})))
        .mount(&server)
        .await;
    let issuer = Issuer::new();
    for base in ["refused", "odd", "other"] {
        let verifier = verifier(&issuer, Introspection::new(&format!("{}/{base}", server.uri()), CREDENTIAL));
        let error = verifier.verify(&issuer.token()).await.unwrap_err();
        assert!(matches!(error, VerifyError::LivenessUnavailable(_)), "{base}: {error:?}");
    }
}

#[tokio::test]
async fn concurrent_checks_of_one_token_share_one_request() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/introspect"))
        .respond_with(answer(json!({"active": true})).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let issuer = Issuer::new();
    let verifier = verifier(&issuer, introspection(&server));
    let token = issuer.token();
    let mut checks = JoinSet::new();
    for _ in 0..10 {
        let (verifier, token) = (verifier.clone(), token.clone());
        checks.spawn(async move { verifier.verify(&token).await });
    }
    while let Some(outcome) = checks.join_next().await {
        assert!(outcome.unwrap().is_ok());
    }
    assert_eq!(introspections(&server).await, 1);
}

#[tokio::test]
async fn tokens_refused_offline_are_never_sent_for_introspection() {
    let server = MockServer::start().await;
    Mock::given(path("/auth/introspect")).respond_with(answer(json!({"active": true}))).mount(&server).await;
    let issuer = Issuer::new();
    let verifier = verifier(&issuer, introspection(&server));
    assert!(verifier.verify(&Issuer::new().token()).await.is_err());
    assert!(verifier.verify(&crate::support::tampered(&issuer.token())).await.is_err());
    assert_eq!(introspections(&server).await, 0);
}
