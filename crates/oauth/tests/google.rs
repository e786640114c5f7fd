//! `GoogleProvider` against the fake Google over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use otp_core::ports::{OAuthError, OAuthProvider};
use otp_oauth::testing::{FakePerson, FakeProvider, IdTokenTweak};
use otp_oauth::{GOOGLE, GoogleConfig, GoogleProvider, HttpLimits};
use secrecy::SecretString;
use support::SignIn;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> (FakeProvider, GoogleProvider) {
    let fake = FakeProvider::google().await;
    let provider = GoogleProvider::new(fake.google_config()).unwrap();
    (fake, provider)
}

/// Starts a sign-in, lets `person` consent (with `tweak`), and exchanges the code.
async fn sign_in(
    fake: &FakeProvider,
    provider: &GoogleProvider,
    person: &FakePerson,
    tweak: IdTokenTweak,
) -> Result<otp_core::ports::ProviderIdentity, OAuthError> {
    let sign_in = SignIn::new();
    let url = provider.authorization_url(&sign_in.request).unwrap();
    let authorized = fake.authorize_with(&url, person, tweak);
    provider.exchange(&sign_in.exchange(&authorized)).await
}

#[tokio::test]
async fn a_sign_in_yields_the_subject_and_the_verified_address() {
    let (fake, provider) = setup().await;
    let person = FakePerson::new("10769150350006150715113082367", "Ann.Lee@Example.com");
    let identity = sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap();
    assert_eq!(identity.provider, GOOGLE);
    assert_eq!(identity.subject, "10769150350006150715113082367");
    assert_eq!(identity.email.as_str(), "ann.lee@example.com");
}

#[tokio::test]
async fn a_code_redeemed_with_another_sign_ins_verifier_is_refused() {
    let (fake, provider) = setup().await;
    let (first, second) = (SignIn::new(), SignIn::new());
    let url = provider.authorization_url(&first.request).unwrap();
    let authorized = fake.authorize(&url, &FakePerson::random("ann@example.com"));
    let mut exchange = first.exchange(&authorized);
    exchange.code_verifier = second.verifier.clone();
    let error = provider.exchange(&exchange).await.unwrap_err();
    assert!(matches!(error, OAuthError::CodeRejected), "{error:?}");
}

#[tokio::test]
async fn a_code_works_once_and_only_at_its_redirect_uri() {
    let (fake, provider) = setup().await;
    let sign_in = SignIn::new();
    let url = provider.authorization_url(&sign_in.request).unwrap();
    let authorized = fake.authorize(&url, &FakePerson::random("ann@example.com"));
    let exchange = sign_in.exchange(&authorized);
    provider.exchange(&exchange).await.unwrap();
    assert!(matches!(provider.exchange(&exchange).await, Err(OAuthError::CodeRejected)));

    let other = SignIn::new();
    let url = provider.authorization_url(&other.request).unwrap();
    let authorized = fake.authorize(&url, &FakePerson::random("ann@example.com"));
    let mut elsewhere = other.exchange(&authorized);
    elsewhere.redirect_uri = "http://127.0.0.1:9999/elsewhere".into();
    assert!(matches!(provider.exchange(&elsewhere).await, Err(OAuthError::CodeRejected)));
}

#[tokio::test]
async fn each_spoiled_id_token_is_refused_with_its_own_error() {
    let (fake, provider) = setup().await;
    let person = FakePerson::random("ann@example.com");
    let outcome = |tweak| sign_in(&fake, &provider, &person, tweak);
    let error = outcome(IdTokenTweak::Tampered).await.unwrap_err();
    assert!(matches!(&error, OAuthError::InvalidIdToken(why) if why.contains("signature")), "{error:?}");
    let error = outcome(IdTokenTweak::WrongAudience).await.unwrap_err();
    assert!(matches!(error, OAuthError::IdTokenAudience), "{error:?}");
    let error = outcome(IdTokenTweak::WrongNonce).await.unwrap_err();
    assert!(matches!(error, OAuthError::IdTokenNonce), "{error:?}");
    let error = outcome(IdTokenTweak::WrongIssuer).await.unwrap_err();
    assert!(matches!(&error, OAuthError::InvalidIdToken(why) if why.contains("issued by")), "{error:?}");
    let error = outcome(IdTokenTweak::Expired).await.unwrap_err();
    assert!(matches!(&error, OAuthError::InvalidIdToken(why) if why.contains("expired")), "{error:?}");
    let error = outcome(IdTokenTweak::Missing).await.unwrap_err();
    assert!(matches!(&error, OAuthError::InvalidIdToken(why) if why.contains("no ID token")), "{error:?}");
}

#[tokio::test]
async fn an_unverified_address_is_refused() {
    let (fake, provider) = setup().await;
    let person = FakePerson::random("ann@example.com").unverified();
    let error = sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap_err();
    assert!(matches!(error, OAuthError::EmailNotVerified), "{error:?}");
}

#[tokio::test]
async fn keys_are_fetched_once_then_again_for_a_rotated_key() {
    let (fake, provider) = setup().await;
    let person = FakePerson::random("ann@example.com");
    sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap();
    sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap();
    assert_eq!(fake.requests_to("/jwks").await, 1, "the key set is cached");

    fake.rotate_signing_key();
    sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap();
    assert_eq!(fake.requests_to("/jwks").await, 2, "an unknown kid fetches the keys again");
    sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap();
    assert_eq!(fake.requests_to("/jwks").await, 2);
}

#[tokio::test]
async fn a_token_signed_by_an_unpublished_key_is_refused_after_one_refresh() {
    let (fake, provider) = setup().await;
    let person = FakePerson::random("ann@example.com");
    let error = sign_in(&fake, &provider, &person, IdTokenTweak::UnpublishedKey).await.unwrap_err();
    assert!(
        matches!(&error, OAuthError::InvalidIdToken(why) if why.contains("does not publish")),
        "{error:?}"
    );
    assert_eq!(fake.requests_to("/jwks").await, 2, "fetched, then fetched again once");
}

#[tokio::test]
async fn concurrent_sign_ins_with_a_rotated_key_fetch_the_keys_once_more() {
    let (fake, provider) = setup().await;
    let person = FakePerson::random("ann@example.com");
    sign_in(&fake, &provider, &person, IdTokenTweak::None).await.unwrap();
    fake.rotate_signing_key();
    let outcomes = futures_join(&fake, &provider, &person).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(fake.requests_to("/jwks").await, 2);
}

async fn futures_join(
    fake: &FakeProvider,
    provider: &GoogleProvider,
    person: &FakePerson,
) -> Vec<Result<otp_core::ports::ProviderIdentity, OAuthError>> {
    let (a, b, c, d) = tokio::join!(
        sign_in(fake, provider, person, IdTokenTweak::None),
        sign_in(fake, provider, person, IdTokenTweak::None),
        sign_in(fake, provider, person, IdTokenTweak::None),
        sign_in(fake, provider, person, IdTokenTweak::None),
    );
    vec![a, b, c, d]
}

#[tokio::test]
async fn wrong_client_credentials_make_the_provider_unavailable_not_the_code_wrong() {
    let fake = FakeProvider::google().await;
    let config = GoogleConfig { client_secret: SecretString::from("not-the-secret"), ..fake.google_config() };
    let provider = GoogleProvider::new(config).unwrap();
    let error = sign_in(&fake, &provider, &FakePerson::random("a@example.com"), IdTokenTweak::None).await;
    assert!(matches!(error, Err(OAuthError::Unavailable(_))), "{error:?}");
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_unavailable() {
    let fake = FakeProvider::google().await;
    let config = GoogleConfig { token_url: "http://127.0.0.1:1/token".into(), ..fake.google_config() };
    let provider = GoogleProvider::new(config).unwrap();
    let error = sign_in(&fake, &provider, &FakePerson::random("a@example.com"), IdTokenTweak::None).await;
    assert!(matches!(error, Err(OAuthError::Unavailable(_))), "{error:?}");
}

/// A fake whose token endpoint is replaced by `answer`.
async fn token_endpoint_answering(answer: ResponseTemplate) -> (FakeProvider, MockServer) {
    let fake = FakeProvider::google().await;
    let other = MockServer::start().await;
    Mock::given(method("POST")).and(path("/token")).respond_with(answer).mount(&other).await;
    (fake, other)
}

#[tokio::test]
async fn oversized_answers_are_not_read() {
    let body = format!(r#"{{"access_token":"{}","token_type":"Bearer"}}"#, "x".repeat(300 * 1024));
    let (fake, other) =
        token_endpoint_answering(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
    let config = GoogleConfig { token_url: format!("{}/token", other.uri()), ..fake.google_config() };
    let provider = GoogleProvider::new(config).unwrap();
    let error = sign_in(&fake, &provider, &FakePerson::random("a@example.com"), IdTokenTweak::None).await;
    assert!(
        matches!(&error, Err(OAuthError::Unavailable(cause)) if cause.to_string().contains("larger")),
        "{error:?}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let fake = FakeProvider::google().await;
    let redirect = ResponseTemplate::new(307).insert_header("location", fake.token_url().as_str());
    let other = MockServer::start().await;
    Mock::given(method("POST")).and(path("/token")).respond_with(redirect).mount(&other).await;
    let config = GoogleConfig { token_url: format!("{}/token", other.uri()), ..fake.google_config() };
    let provider = GoogleProvider::new(config).unwrap();
    let error = sign_in(&fake, &provider, &FakePerson::random("a@example.com"), IdTokenTweak::None).await;
    assert!(matches!(error, Err(OAuthError::Unavailable(_))), "{error:?}");
    assert_eq!(fake.requests_to("/token").await, 0, "the redirect target was never called");
}

#[tokio::test]
async fn a_provider_that_hangs_is_unavailable_within_the_time_limit() {
    let (fake, other) =
        token_endpoint_answering(ResponseTemplate::new(200).set_delay(Duration::from_secs(5))).await;
    let config = GoogleConfig {
        token_url: format!("{}/token", other.uri()),
        http: HttpLimits {
            connect_timeout: Duration::from_millis(200),
            request_timeout: Duration::from_millis(300),
        },
        ..fake.google_config()
    };
    let provider = GoogleProvider::new(config).unwrap();
    let started = Instant::now();
    let error = sign_in(&fake, &provider, &FakePerson::random("a@example.com"), IdTokenTweak::None).await;
    assert!(matches!(error, Err(OAuthError::Unavailable(_))), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn endpoints_must_be_https_off_this_machine() {
    let mut config = GoogleConfig::new("id", SecretString::from("secret"));
    config.token_url = "http://oauth2.example.com/token".into();
    let error = GoogleProvider::new(config).unwrap_err();
    assert_eq!(error.setting(), Some("token_url"));
    assert!(GoogleProvider::new(GoogleConfig::new("id", SecretString::from("secret"))).is_ok());
    assert!(!format!("{:?}", GoogleConfig::new("id", SecretString::from("hunter2"))).contains("hunter2"));
}
