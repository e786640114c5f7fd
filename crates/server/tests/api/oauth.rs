//! Sign-in with Google and GitHub, against fake providers over real HTTP (wiremock):
//! full sign-ins, every refusal with its own code, and the linking rules.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use otp_oauth::testing::{CLIENT_ID, CLIENT_SECRET, FakePerson, FakeProvider, IdTokenTweak};
use otp_server::Settings;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, claims_of, spawn_app_with, token, unique_email};

/// The web page's callback, as the examples use it.
const REDIRECT_URI: &str = "http://127.0.0.1:8080/oauth/callback";

pub(crate) struct OAuthApp {
    pub(crate) app: TestApp,
    google: FakeProvider,
    github: FakeProvider,
    /// The client binding `start` answered for each state, as the web page keeps it.
    bindings: Mutex<HashMap<String, String>>,
}

fn configure_google(settings: &mut Settings, google: &FakeProvider) {
    settings.google_client_id = Some(CLIENT_ID.into());
    settings.google_client_secret = Some(CLIENT_SECRET.into());
    settings.google_redirect_uri = Some(REDIRECT_URI.into());
    settings.google_auth_url = Some(google.auth_url());
    settings.google_token_url = Some(google.token_url());
    settings.google_jwks_url = Some(google.jwks_url());
    settings.google_issuer = Some(google.uri());
}

fn configure_github(settings: &mut Settings, github: &FakeProvider) {
    settings.github_client_id = Some(CLIENT_ID.into());
    settings.github_client_secret = Some(CLIENT_SECRET.into());
    settings.github_redirect_uri = Some(REDIRECT_URI.into());
    settings.github_auth_url = Some(github.auth_url());
    settings.github_token_url = Some(github.token_url());
    settings.github_api_url = Some(github.api_url());
}

/// A server with both providers configured against fakes, then `extra` applied.
pub(crate) async fn spawn_with_providers(extra: impl FnOnce(&mut Settings)) -> OAuthApp {
    let (google, github) = (FakeProvider::google().await, FakeProvider::github().await);
    let app = spawn_app_with(|settings| {
        configure_google(settings, &google);
        configure_github(settings, &github);
        extra(settings);
    })
    .await;
    OAuthApp { app, google, github, bindings: Mutex::default() }
}

pub(crate) async fn spawn() -> OAuthApp {
    spawn_with_providers(|_| {}).await
}

/// What a started sign-in answered.
struct Started {
    auth_url: String,
    state: String,
}

impl OAuthApp {
    fn fake(&self, provider: &str) -> &FakeProvider {
        match provider {
            "google" => &self.google,
            "github" => &self.github,
            other => panic!("no fake for {other}"),
        }
    }

    async fn start(&self, provider: &str, redirect_uri: Option<&str>) -> Response {
        let mut request = self.app.client.get(self.app.url(&format!("/auth/oauth/{provider}/start")));
        if let Some(uri) = redirect_uri {
            request = request.query(&[("redirect_uri", uri)]);
        }
        request.send().await.unwrap()
    }

    async fn started(&self, provider: &str) -> Started {
        let response = self.start(provider, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["provider"], provider);
        let (state, binding) = (token(&body, "state"), token(&body, "client_binding"));
        assert!(!token(&body, "auth_url").contains(&binding), "the binding never goes to the provider");
        self.bindings.lock().unwrap().insert(state.clone(), binding);
        Started { auth_url: token(&body, "auth_url"), state }
    }

    /// Posts the callback as the client that started the sign-in of its `state` would:
    /// with that start's client binding, unless `body` names one.
    async fn callback(&self, provider: &str, body: &Value) -> Response {
        let mut body = body.clone();
        let binding =
            body["state"].as_str().and_then(|state| self.bindings.lock().unwrap().get(state).cloned());
        if let (Some(binding), None) = (binding, body.get("client_binding")) {
            body["client_binding"] = Value::String(binding);
        }
        self.raw_callback(provider, &body).await
    }

    /// Posts `body` to the callback as it is.
    async fn raw_callback(&self, provider: &str, body: &Value) -> Response {
        self.app.post(&format!("/auth/oauth/{provider}/callback"), body).await
    }

    /// Start, let `person` consent (with `tweak`), and post the callback as the web
    /// page would.
    async fn sign_in_with(&self, provider: &str, person: &FakePerson, tweak: IdTokenTweak) -> Response {
        let started = self.started(provider).await;
        let authorized = self.fake(provider).authorize_with(&started.auth_url, person, tweak);
        assert_eq!(authorized.state, started.state);
        assert_eq!(authorized.redirect_uri, REDIRECT_URI);
        let body =
            json!({ "code": authorized.code, "state": authorized.state, "redirect_uri": REDIRECT_URI });
        self.callback(provider, &body).await
    }

    async fn sign_in(&self, provider: &str, person: &FakePerson) -> Response {
        self.sign_in_with(provider, person, IdTokenTweak::None).await
    }

    /// A sign-in that must succeed; returns the token response.
    pub(crate) async fn signed_in(&self, provider: &str, person: &FakePerson) -> Value {
        let response = self.sign_in(provider, person).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

async fn assert_full_sign_in(provider: &str) {
    let oauth = spawn().await;
    let address = unique_email();
    let response = oauth.sign_in(provider, &FakePerson::random(address.to_uppercase())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["provider"], provider);
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(token(&tokens, "access_token").starts_with("v4.public."));
    assert!(!token(&tokens, "refresh_token").is_empty());
    assert_eq!(tokens["user"]["email"], address.as_str());
    assert_eq!(tokens["user"]["email_verified"], true);
    assert_eq!(tokens["user"]["has_password"], false);
    let claims = claims_of(&token(&tokens, "access_token"));
    assert_eq!(claims["amr"], json!([format!("oauth:{provider}")]));
    assert_eq!((&claims["email"], &claims["email_verified"]), (&json!(address), &json!(true)));

    let me = oauth.app.get_with_token("/auth/me", &token(&tokens, "access_token")).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["id"], tokens["user"]["id"]);
    assert_eq!(me["email"], address.as_str());
}

#[tokio::test]
async fn a_full_google_sign_in_ends_with_tokens_that_me_accepts() {
    assert_full_sign_in("google").await;
}

#[tokio::test]
async fn a_full_github_sign_in_ends_with_tokens_that_me_accepts() {
    assert_full_sign_in("github").await;
}

#[tokio::test]
async fn the_start_answer_carries_a_fresh_state_and_an_authorization_url_with_pkce() {
    let oauth = spawn().await;
    let (first, second) = (oauth.started("google").await, oauth.started("google").await);
    assert_ne!(first.state, second.state);
    assert_eq!(first.state.len(), 43);
    assert!(first.auth_url.starts_with(&oauth.google.auth_url()), "{}", first.auth_url);
    let url = reqwest::Url::parse(&first.auth_url).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |name: &str| query.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    assert_eq!(get("state"), Some(first.state.clone()));
    assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(get("redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert!(get("nonce").is_some_and(|nonce| nonce.len() == 43));
    assert!(!first.auth_url.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn the_python_clients_prefix_serves_the_same_routes() {
    let oauth = spawn().await;
    let response = oauth.app.get("/api/auth/oauth/providers").await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = oauth.app.client.get(oauth.app.url("/api/auth/oauth/github/start")).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    let authorized = oauth.github.authorize(&token(&body, "auth_url"), &FakePerson::random(unique_email()));
    let response = oauth
        .app
        .post(
            "/api/auth/oauth/github/callback",
            &json!({ "code": authorized.code, "state": authorized.state, "client_binding": body["client_binding"] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "redirect_uri may be left out");
}

#[tokio::test]
async fn only_configured_providers_are_listed() {
    let oauth = spawn().await;
    let body: Value = oauth.app.get("/auth/oauth/providers").await.json().await.unwrap();
    assert_eq!(body, json!({ "providers": ["google", "github"] }));

    let google = FakeProvider::google().await;
    let app = spawn_app_with(|settings| configure_google(settings, &google)).await;
    let body: Value = app.get("/auth/oauth/providers").await.json().await.unwrap();
    assert_eq!(body, json!({ "providers": ["google"] }));

    let app = spawn_app_with(|_| {}).await;
    let body: Value = app.get("/auth/oauth/providers").await.json().await.unwrap();
    assert_eq!(body, json!({ "providers": [] }));
}

#[tokio::test]
async fn an_unknown_provider_is_not_found() {
    let oauth = spawn().await;
    assert_problem(oauth.start("facebook", None).await, StatusCode::NOT_FOUND, "not_found").await;
    let body = json!({ "code": "c", "state": "s" });
    assert_problem(oauth.callback("facebook", &body).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_known_provider_without_configuration_is_unavailable_with_a_clear_detail() {
    let google = FakeProvider::google().await;
    let app = spawn_app_with(|settings| configure_google(settings, &google)).await;
    let response = app.get("/auth/oauth/github/start").await;
    let body =
        assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "oauth_provider_not_configured").await;
    assert!(body["detail"].as_str().unwrap().contains("github"), "{body}");
    let response = app.post("/auth/oauth/github/callback", &json!({ "code": "c", "state": "s" })).await;
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE, "oauth_provider_not_configured").await;
}

// Each refusal the issue names, as a scenario answering the refused response.

async fn replayed_state(oauth: &OAuthApp) -> Response {
    let started = oauth.started("google").await;
    let authorized = oauth.google.authorize(&started.auth_url, &FakePerson::random(unique_email()));
    let body = json!({ "code": authorized.code, "state": authorized.state });
    assert_eq!(oauth.callback("google", &body).await.status(), StatusCode::OK);
    oauth.callback("google", &body).await
}

async fn expired_state(oauth: &OAuthApp) -> Response {
    let started = oauth.started("google").await;
    let authorized = oauth.google.authorize(&started.auth_url, &FakePerson::random(unique_email()));
    oauth.app.clock.advance(Duration::from_secs(601));
    oauth.callback("google", &json!({ "code": authorized.code, "state": authorized.state })).await
}

async fn state_of_another_provider(oauth: &OAuthApp) -> Response {
    let google_started = oauth.started("google").await;
    let github_started = oauth.started("github").await;
    let authorized = oauth.github.authorize(&github_started.auth_url, &FakePerson::random(unique_email()));
    oauth.callback("github", &json!({ "code": authorized.code, "state": google_started.state })).await
}

/// The code of one sign-in presented with the state of another: the server sends the
/// other sign-in's PKCE verifier, and the token endpoint refuses it.
async fn wrong_pkce_verifier(oauth: &OAuthApp, provider: &str) -> Response {
    let (first, second) = (oauth.started(provider).await, oauth.started(provider).await);
    let authorized = oauth.fake(provider).authorize(&first.auth_url, &FakePerson::random(unique_email()));
    oauth.callback(provider, &json!({ "code": authorized.code, "state": second.state })).await
}

async fn spoiled_id_token(oauth: &OAuthApp, tweak: IdTokenTweak) -> Response {
    oauth.sign_in_with("google", &FakePerson::random(unique_email()), tweak).await
}

async fn unverified_email(oauth: &OAuthApp, provider: &str) -> Response {
    oauth.sign_in(provider, &FakePerson::random(unique_email()).unverified()).await
}

async fn redirect_uri_off_the_allow_list(oauth: &OAuthApp) -> Response {
    oauth.start("google", Some("https://attacker.example/steal")).await
}

#[tokio::test]
async fn replaying_a_used_state_is_refused() {
    let oauth = spawn().await;
    let response = replayed_state(&oauth).await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "oauth_state_invalid").await;
    assert!(body["detail"].as_str().unwrap().contains("already been used"), "{body}");
}

#[tokio::test]
async fn an_unknown_or_malformed_state_is_refused() {
    let oauth = spawn().await;
    for state in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not-a-state", ""] {
        let response = oauth.callback("google", &json!({ "code": "some-code", "state": state })).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "oauth_state_invalid").await;
    }
    assert_eq!(oauth.google.requests_to("/token").await, 0, "no code is redeemed without a state");
}

#[tokio::test]
async fn an_expired_state_is_refused_and_stays_used() {
    let oauth = spawn().await;
    let started = oauth.started("github").await;
    let authorized = oauth.github.authorize(&started.auth_url, &FakePerson::random(unique_email()));
    oauth.app.clock.advance(Duration::from_secs(601));
    let body = json!({ "code": authorized.code, "state": authorized.state });
    assert_problem(oauth.callback("github", &body).await, StatusCode::BAD_REQUEST, "oauth_state_expired")
        .await;
    assert_problem(oauth.callback("github", &body).await, StatusCode::BAD_REQUEST, "oauth_state_invalid")
        .await;
    assert_eq!(oauth.github.requests_to("/login/oauth/access_token").await, 0);
}

#[tokio::test]
async fn a_state_is_still_good_just_before_it_expires() {
    let oauth = spawn().await;
    let started = oauth.started("google").await;
    let authorized = oauth.google.authorize(&started.auth_url, &FakePerson::random(unique_email()));
    oauth.app.clock.advance(Duration::from_secs(599));
    let response =
        oauth.callback("google", &json!({ "code": authorized.code, "state": authorized.state })).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_state_from_another_provider_is_refused_and_burnt() {
    let oauth = spawn().await;
    let google_started = oauth.started("google").await;
    let github_started = oauth.started("github").await;
    let github_code =
        oauth.github.authorize(&github_started.auth_url, &FakePerson::random(unique_email())).code;
    let body = json!({ "code": github_code, "state": google_started.state });
    let response = oauth.callback("github", &body).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "oauth_state_provider_mismatch").await;
    let authorized = oauth.google.authorize(&google_started.auth_url, &FakePerson::random(unique_email()));
    let body = json!({ "code": authorized.code, "state": google_started.state });
    assert_problem(oauth.callback("google", &body).await, StatusCode::BAD_REQUEST, "oauth_state_invalid")
        .await;
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_by_the_token_endpoint() {
    let oauth = spawn().await;
    for provider in ["google", "github"] {
        let response = wrong_pkce_verifier(&oauth, provider).await;
        let body = assert_problem(response, StatusCode::BAD_REQUEST, "oauth_code_rejected").await;
        assert!(body["detail"].as_str().unwrap().contains("refused"), "{body}");
    }
}

#[tokio::test]
async fn a_tampered_id_token_is_refused() {
    let oauth = spawn().await;
    let response = spoiled_id_token(&oauth, IdTokenTweak::Tampered).await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "oauth_id_token_invalid").await;
    assert!(body["detail"].as_str().unwrap().contains("signature"), "{body}");
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let oauth = spawn().await;
    let response = spoiled_id_token(&oauth, IdTokenTweak::WrongAudience).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "oauth_id_token_audience").await;
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let oauth = spawn().await;
    let response = spoiled_id_token(&oauth, IdTokenTweak::WrongNonce).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "oauth_id_token_nonce").await;
}

#[tokio::test]
async fn id_tokens_from_another_issuer_expired_or_signed_by_an_unpublished_key_are_refused() {
    let oauth = spawn().await;
    for tweak in [IdTokenTweak::WrongIssuer, IdTokenTweak::Expired, IdTokenTweak::UnpublishedKey] {
        let response = spoiled_id_token(&oauth, tweak).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "oauth_id_token_invalid").await;
    }
}

#[tokio::test]
async fn an_unverified_provider_address_is_refused() {
    let oauth = spawn().await;
    for provider in ["google", "github"] {
        let response = unverified_email(&oauth, provider).await;
        assert_problem(response, StatusCode::FORBIDDEN, "oauth_email_not_verified").await;
    }
}

#[tokio::test]
async fn a_redirect_uri_off_the_allow_list_is_refused() {
    let oauth = spawn().await;
    let response = redirect_uri_off_the_allow_list(&oauth).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "oauth_redirect_uri_not_allowed").await;
    // Exact comparison: a prefix, a suffix or another port is another URI.
    for near_miss in [
        "http://127.0.0.1:8080/oauth/callback/",
        "http://127.0.0.1:8080/oauth/callback?next=/x",
        "http://127.0.0.1:8081/oauth/callback",
        "HTTP://127.0.0.1:8080/oauth/callback",
    ] {
        let response = oauth.start("github", Some(near_miss)).await;
        assert_problem(response, StatusCode::BAD_REQUEST, "oauth_redirect_uri_not_allowed").await;
    }
}

#[tokio::test]
async fn each_refusal_has_its_own_code() {
    let oauth = spawn().await;
    let responses = vec![
        replayed_state(&oauth).await,
        state_of_another_provider(&oauth).await,
        wrong_pkce_verifier(&oauth, "google").await,
        spoiled_id_token(&oauth, IdTokenTweak::Tampered).await,
        spoiled_id_token(&oauth, IdTokenTweak::WrongAudience).await,
        spoiled_id_token(&oauth, IdTokenTweak::WrongNonce).await,
        unverified_email(&oauth, "google").await,
        redirect_uri_off_the_allow_list(&oauth).await,
        // Last: it moves the clock past every other state's lifetime.
        expired_state(&oauth).await,
    ];
    let count = responses.len();
    let mut codes = BTreeSet::new();
    for response in responses {
        assert!(response.status().is_client_error(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        codes.insert(body["code"].as_str().unwrap().to_owned());
    }
    assert_eq!(codes.len(), count, "{codes:?}");
}

#[tokio::test]
async fn an_allowed_redirect_uri_is_bound_to_the_state() {
    const OTHER: &str = "https://app.example.com/oauth/callback";
    let oauth = spawn_with_providers(|settings| settings.oauth_allowed_redirect_uris = OTHER.into()).await;
    let response = oauth.start("google", Some(OTHER)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let authorized = oauth.google.authorize(&token(&body, "auth_url"), &FakePerson::random(unique_email()));
    assert_eq!(authorized.redirect_uri, OTHER);
    let mismatched =
        json!({ "code": authorized.code, "state": authorized.state, "redirect_uri": REDIRECT_URI });
    let response = oauth.callback("google", &mismatched).await;
    assert_problem(response, StatusCode::BAD_REQUEST, "oauth_redirect_uri_mismatch").await;

    let response = oauth.start("github", Some(OTHER)).await;
    let body: Value = response.json().await.unwrap();
    let authorized = oauth.github.authorize(&token(&body, "auth_url"), &FakePerson::random(unique_email()));
    let matching = json!({
        "code": authorized.code,
        "state": authorized.state,
        "redirect_uri": OTHER,
        "client_binding": body["client_binding"],
    });
    assert_eq!(oauth.callback("github", &matching).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_existing_verified_account_gains_the_identity() {
    let oauth = spawn().await;
    let address = unique_email();
    let registered = oauth.app.register_verified(&address).await;
    let person = FakePerson::random(&address);
    let first = oauth.signed_in("google", &person).await;
    assert_eq!(first["user"]["id"], registered["user"]["id"]);
    assert_eq!(first["user"]["has_password"], true, "the account keeps its password");

    // The identity, not the address, is the key: it keeps signing in to the account
    // after the address changes at the provider.
    let moved = FakePerson { email: unique_email(), ..person };
    let again = oauth.signed_in("google", &moved).await;
    assert_eq!(again["user"]["id"], registered["user"]["id"]);
    assert_eq!(again["user"]["email"], address.as_str());

    // Another provider's identity with the same verified address joins the same account.
    let github = oauth.signed_in("github", &FakePerson::random(&address)).await;
    assert_eq!(github["user"]["id"], registered["user"]["id"]);
}

#[tokio::test]
async fn an_existing_unverified_account_is_not_linked_until_its_address_is_verified() {
    let oauth = spawn().await;
    let address = unique_email();
    let response = oauth
        .app
        .post("/auth/register", &json!({ "email": address, "password": crate::helpers::PASSWORD }))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let person = FakePerson::random(&address);
    let body =
        assert_problem(oauth.sign_in("google", &person).await, StatusCode::CONFLICT, "account_exists").await;
    assert!(body["detail"].as_str().unwrap().contains("not been verified"), "{body}");

    let code = oauth.app.last_code(&address);
    let verified: Value = oauth.app.verify_otp(&address, &code).await.json().await.unwrap();
    let linked = oauth.signed_in("google", &person).await;
    assert_eq!(linked["user"]["id"], verified["user"]["id"]);
}

#[tokio::test]
async fn an_account_created_by_a_provider_is_the_accounts_for_email_codes_too() {
    let oauth = spawn().await;
    let address = unique_email();
    let created = oauth.signed_in("github", &FakePerson::random(&address)).await;
    let device = created["device_token"].as_str().expect("a provider sign-in answers a device token");
    assert_eq!(device.len(), 32 + 1 + 43);
    let by_code = oauth.app.sign_in(&address).await;
    assert_eq!(by_code["user"]["id"], created["user"]["id"]);
    assert_eq!(by_code["user"]["has_password"], false);
}

#[tokio::test]
async fn two_identities_of_one_provider_with_one_address_share_the_account() {
    let oauth = spawn().await;
    let address = unique_email();
    let first = oauth.signed_in("google", &FakePerson::random(&address)).await;
    let second = oauth.signed_in("google", &FakePerson::random(&address)).await;
    assert_eq!(first["user"]["id"], second["user"]["id"]);
}

#[tokio::test]
async fn start_and_callback_are_rate_limited_per_client() {
    let oauth = spawn_with_providers(|settings| settings.rate_limit_per_ip = 2).await;
    for _ in 0..2 {
        assert_eq!(oauth.start("google", None).await.status(), StatusCode::OK);
    }
    let response = oauth.start("github", None).await;
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    for _ in 0..2 {
        let response = oauth.callback("google", &json!({ "code": "c", "state": "s" })).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = oauth.callback("google", &json!({ "code": "c", "state": "s" })).await;
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn malformed_callbacks_are_refused_as_validation_errors() {
    let oauth = spawn().await;
    let started = oauth.started("google").await;
    let state = started.state.clone();
    for body in [
        json!({ "state": state }),
        json!({ "code": "c" }),
        json!({ "code": 12345, "state": state }),
        json!({ "code": "c", "state": state, "extra": true }),
        json!({ "code": "", "state": state }),
        json!({ "code": "has space", "state": state }),
        json!({ "code": "x".repeat(2049), "state": state }),
    ] {
        let response = oauth.callback("google", &body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let response = oauth.app.get("/auth/oauth/google/start?unexpected=1").await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let response = oauth.app.get("/auth/oauth/google/callback").await;
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    // The refused callbacks above never consumed the state.
    let authorized = oauth.google.authorize(&started.auth_url, &FakePerson::random(unique_email()));
    assert_eq!(authorized.state, state);
    let response = oauth.callback("google", &json!({ "code": authorized.code, "state": state })).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_is_a_bad_gateway() {
    let google = FakeProvider::google().await;
    let app = spawn_app_with(|settings| {
        configure_google(settings, &google);
        settings.google_token_url = Some("http://127.0.0.1:1/token".into());
    })
    .await;
    let body: Value = app.get("/auth/oauth/google/start").await.json().await.unwrap();
    let authorized = google.authorize(&token(&body, "auth_url"), &FakePerson::random(unique_email()));
    let callback = json!({ "code": authorized.code, "state": authorized.state, "client_binding": body["client_binding"] });
    let response = app.post("/auth/oauth/google/callback", &callback).await;
    let body = assert_problem(response, StatusCode::BAD_GATEWAY, "oauth_provider_unavailable").await;
    assert!(!body["detail"].as_str().unwrap().contains("127.0.0.1"), "{body}");
}

/// Login CSRF: an attacker starts a sign-in, consents with their own provider account,
/// and lures the victim's client into posting the callback. The victim's client does
/// not hold that sign-in's binding, so the callback is refused and no code is redeemed.
#[tokio::test]
async fn a_callback_without_the_starting_clients_binding_is_refused() {
    let oauth = spawn().await;
    for provider in ["google", "github"] {
        let attacker = oauth.started(provider).await;
        let victims_own = oauth.started(provider).await;
        let lure = oauth.fake(provider).authorize(&attacker.auth_url, &FakePerson::random(unique_email()));
        let victims_binding = oauth.bindings.lock().unwrap()[&victims_own.state].clone();
        let body = json!({ "code": lure.code, "state": lure.state, "client_binding": victims_binding });
        let refused = oauth.raw_callback(provider, &body).await;
        let detail = assert_problem(refused, StatusCode::BAD_REQUEST, "oauth_client_binding_invalid").await;
        assert!(detail["detail"].as_str().unwrap().contains("another client"), "{detail}");

        let unbound = oauth.started(provider).await;
        let lure = oauth.fake(provider).authorize(&unbound.auth_url, &FakePerson::random(unique_email()));
        let body = json!({ "code": lure.code, "state": lure.state });
        let refused = oauth.raw_callback(provider, &body).await;
        let detail = assert_problem(refused, StatusCode::BAD_REQUEST, "oauth_client_binding_invalid").await;
        assert!(detail["detail"].as_str().unwrap().contains("required"), "{detail}");
        // The state was used up by the refused callback: the lure cannot be retried.
        let retried = oauth.callback(provider, &body).await;
        assert_problem(retried, StatusCode::BAD_REQUEST, "oauth_state_invalid").await;
    }
    assert_eq!(oauth.google.requests_to("/token").await, 0, "no code is redeemed without the binding");
    assert_eq!(oauth.github.requests_to("/token").await, 0);
}
