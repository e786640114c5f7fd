//! `GitHubProvider` against the fake GitHub over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use otp_core::ports::{OAuthError, OAuthProvider, ProviderIdentity};
use otp_oauth::testing::{FakePerson, FakeProvider};
use otp_oauth::{GITHUB, GitHubConfig, GitHubProvider};
use secrecy::SecretString;
use support::SignIn;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

async fn setup() -> (FakeProvider, GitHubProvider) {
    let fake = FakeProvider::github().await;
    let provider = GitHubProvider::new(fake.github_config()).unwrap();
    (fake, provider)
}

async fn sign_in(
    fake: &FakeProvider,
    provider: &GitHubProvider,
    person: &FakePerson,
) -> Result<ProviderIdentity, OAuthError> {
    let sign_in = SignIn::new();
    let url = provider.authorization_url(&sign_in.request).unwrap();
    let authorized = fake.authorize(&url, person);
    provider.exchange(&sign_in.exchange(&authorized)).await
}

#[tokio::test]
async fn a_sign_in_yields_the_numeric_id_and_the_primary_verified_address() {
    let (fake, provider) = setup().await;
    let mut person = FakePerson::new("583231", "Octo.Cat@Example.com");
    person.other_emails.push(("octo@old.example.com".into(), true));
    let identity = sign_in(&fake, &provider, &person).await.unwrap();
    assert_eq!(identity.provider, GITHUB);
    assert_eq!(identity.subject, "583231");
    assert_eq!(identity.email.as_str(), "octo.cat@example.com");
}

#[tokio::test]
async fn an_unverified_primary_address_is_refused_even_beside_a_verified_one() {
    let (fake, provider) = setup().await;
    let mut person = FakePerson::random("octo@example.com").unverified();
    person.other_emails.push(("verified-but-secondary@example.com".into(), true));
    let error = sign_in(&fake, &provider, &person).await.unwrap_err();
    assert!(matches!(error, OAuthError::EmailNotVerified), "{error:?}");
}

#[tokio::test]
async fn a_wrong_verifier_is_a_refused_code_although_github_answers_200() {
    let (fake, provider) = setup().await;
    let (first, second) = (SignIn::new(), SignIn::new());
    let url = provider.authorization_url(&first.request).unwrap();
    let authorized = fake.authorize(&url, &FakePerson::random("octo@example.com"));
    let mut exchange = first.exchange(&authorized);
    exchange.code_verifier = second.verifier.clone();
    let error = provider.exchange(&exchange).await.unwrap_err();
    assert!(matches!(error, OAuthError::CodeRejected), "{error:?}");
    assert_eq!(fake.requests_to("/api/user").await, 0, "no API call without a token");
}

#[tokio::test]
async fn wrong_client_credentials_make_the_provider_unavailable() {
    let fake = FakeProvider::github().await;
    let config = GitHubConfig { client_secret: SecretString::from("wrong"), ..fake.github_config() };
    let provider = GitHubProvider::new(config).unwrap();
    let error = sign_in(&fake, &provider, &FakePerson::random("octo@example.com")).await;
    assert!(matches!(error, Err(OAuthError::Unavailable(_))), "{error:?}");
}

#[tokio::test]
async fn an_api_failure_makes_the_provider_unavailable() {
    let (fake, provider) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/user/emails"))
        .respond_with(ResponseTemplate::new(502))
        .with_priority(1)
        .mount(fake.server())
        .await;
    let error = sign_in(&fake, &provider, &FakePerson::random("octo@example.com")).await;
    assert!(
        matches!(&error, Err(OAuthError::Unavailable(cause)) if cause.to_string().contains("502")),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_authorization_url_asks_for_pkce_and_the_address_scope() {
    let (fake, provider) = setup().await;
    let sign_in = SignIn::new();
    let url = provider.authorization_url(&sign_in.request).unwrap();
    assert!(url.starts_with(&fake.auth_url()), "{url}");
    assert!(url.contains(&format!("code_challenge={}", sign_in.request.code_challenge)), "{url}");
    assert!(!url.contains("nonce="), "GitHub has no nonce: {url}");
}
