//! A fake Google and a fake GitHub on a local HTTP server (wiremock), strict the way the
//! real ones are where it matters: single-use codes bound to a PKCE challenge and a
//! redirect URI, client credentials checked, ID tokens signed by published keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use oauth2::url::Url;
use openidconnect::core::CoreJsonWebKeySet;
use secrecy::SecretString;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::keys::{IdTokenContent, TestKey};
use crate::{GitHubConfig, GoogleConfig};

/// The client id the fakes accept.
pub const CLIENT_ID: &str = "test-client-id";
/// The client secret the fakes accept.
pub const CLIENT_SECRET: &str = "test-client-secret";

/// Which provider a fake plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeKind {
    /// OpenID Connect: ID tokens, JWKS.
    Google,
    /// OAuth 2.0 plus the REST API: `/user`, `/user/emails`.
    GitHub,
}

/// A person at the fake provider.
#[derive(Debug, Clone)]
pub struct FakePerson {
    /// The provider's subject id (numeric for GitHub).
    pub subject: String,
    /// The primary address.
    pub email: String,
    /// Whether the provider verified it.
    pub email_verified: bool,
    /// Further GitHub addresses: (address, verified), never primary.
    pub other_emails: Vec<(String, bool)>,
}

impl FakePerson {
    /// A person with a verified primary address.
    pub fn new(subject: impl Into<String>, email: impl Into<String>) -> Self {
        Self { subject: subject.into(), email: email.into(), email_verified: true, other_emails: Vec::new() }
    }

    /// A person with a fresh numeric subject (valid at both fakes) and a verified address.
    pub fn random(email: impl Into<String>) -> Self {
        Self::new((uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000).to_string(), email)
    }

    /// The same person, whose primary address is not verified.
    #[must_use]
    pub fn unverified(mut self) -> Self {
        self.email_verified = false;
        self
    }
}

/// How the fake Google spoils the ID token of a grant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdTokenTweak {
    /// A correct token.
    #[default]
    None,
    /// Issued to another client.
    WrongAudience,
    /// Carrying another nonce.
    WrongNonce,
    /// The payload altered after signing.
    Tampered,
    /// Issued by another issuer.
    WrongIssuer,
    /// Already expired.
    Expired,
    /// Signed by a key the fake does not publish.
    UnpublishedKey,
    /// No ID token in the token response.
    Missing,
}

/// What the browser brings back from the provider.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// The authorization code.
    pub code: String,
    /// The state, as the provider echoes it.
    pub state: String,
    /// The redirect URI the code is bound to.
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
struct Grant {
    challenge: String,
    redirect_uri: String,
    nonce: Option<String>,
    person: FakePerson,
    tweak: IdTokenTweak,
}

#[derive(Debug)]
struct FakeState {
    kind: FakeKind,
    issuer: String,
    grants: HashMap<String, Grant>,
    access_tokens: HashMap<String, FakePerson>,
    published: Vec<TestKey>,
    signing: TestKey,
}

type Shared = Arc<Mutex<FakeState>>;

fn lock(shared: &Shared) -> MutexGuard<'_, FakeState> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fake provider on its own local port.
#[derive(Debug)]
pub struct FakeProvider {
    server: MockServer,
    shared: Shared,
}

impl FakeProvider {
    /// A fake Google: `/authorize` (only checked, never served), `/token`, `/jwks`;
    /// issuer: the server's base URL.
    pub async fn google() -> Self {
        Self::start(FakeKind::Google).await
    }

    /// A fake GitHub: `/login/oauth/authorize` (only checked), `/login/oauth/access_token`,
    /// `/api/user`, `/api/user/emails`.
    pub async fn github() -> Self {
        Self::start(FakeKind::GitHub).await
    }

    async fn start(kind: FakeKind) -> Self {
        let server = MockServer::start().await;
        let shared = Arc::new(Mutex::new(FakeState {
            kind,
            issuer: server.uri(),
            grants: HashMap::new(),
            access_tokens: HashMap::new(),
            published: vec![TestKey::First],
            signing: TestKey::First,
        }));
        let fake = Self { server, shared };
        let token = TokenEndpoint(Arc::clone(&fake.shared));
        Mock::given(method("POST"))
            .and(path(fake.token_path()))
            .respond_with(token)
            .mount(&fake.server)
            .await;
        match kind {
            FakeKind::Google => {
                let jwks = JwksEndpoint(Arc::clone(&fake.shared));
                Mock::given(method("GET")).and(path("/jwks")).respond_with(jwks).mount(&fake.server).await;
            }
            FakeKind::GitHub => {
                for (route, answer) in
                    [("/api/user", ApiAnswer::User), ("/api/user/emails", ApiAnswer::Emails)]
                {
                    let endpoint = ApiEndpoint { shared: Arc::clone(&fake.shared), answer };
                    Mock::given(method("GET"))
                        .and(path(route))
                        .respond_with(endpoint)
                        .mount(&fake.server)
                        .await;
                }
            }
        }
        fake
    }

    fn kind(&self) -> FakeKind {
        lock(&self.shared).kind
    }

    fn authorize_path(&self) -> &'static str {
        self.kind().authorize_path()
    }

    fn token_path(&self) -> &'static str {
        match self.kind() {
            FakeKind::Google => "/token",
            FakeKind::GitHub => "/login/oauth/access_token",
        }
    }

    /// Serves the authorization endpoint to a browser: every request is `person`
    /// consenting at once, answered with a redirect to the request's `redirect_uri`
    /// carrying the code and the state (for end-to-end tests in a browser). A request a
    /// real provider would refuse gets a 400 naming what is wrong.
    pub async fn consent_in_browser_as(&self, person: FakePerson) {
        let endpoint = ConsentEndpoint { shared: Arc::clone(&self.shared), uri: self.uri(), person };
        Mock::given(method("GET"))
            .and(path(self.authorize_path()))
            .respond_with(endpoint)
            .mount(&self.server)
            .await;
    }

    /// The underlying server, to mount further answers (they take precedence when
    /// mounted with a higher priority, that is a lower number than the default 5).
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The server's base URL (also the fake Google's issuer).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The authorization endpoint.
    pub fn auth_url(&self) -> String {
        format!("{}{}", self.uri(), self.authorize_path())
    }

    /// The token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}{}", self.uri(), self.token_path())
    }

    /// The fake Google's JWKS.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.uri())
    }

    /// The fake GitHub's REST API root.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.uri())
    }

    /// A Google configuration pointing at this fake, with its client credentials.
    pub fn google_config(&self) -> GoogleConfig {
        GoogleConfig {
            auth_url: self.auth_url(),
            token_url: self.token_url(),
            jwks_url: self.jwks_url(),
            issuer: self.uri(),
            ..GoogleConfig::new(CLIENT_ID, SecretString::from(CLIENT_SECRET))
        }
    }

    /// A GitHub configuration pointing at this fake, with its client credentials.
    pub fn github_config(&self) -> GitHubConfig {
        GitHubConfig {
            auth_url: self.auth_url(),
            token_url: self.token_url(),
            api_url: self.api_url(),
            ..GitHubConfig::new(CLIENT_ID, SecretString::from(CLIENT_SECRET))
        }
    }

    /// Plays `person` consenting at `auth_url`: checks the request the way the provider
    /// would (panicking on anything a real provider would refuse), and issues a code
    /// bound to its PKCE challenge, redirect URI and nonce.
    pub fn authorize(&self, auth_url: &str, person: &FakePerson) -> Authorized {
        self.authorize_with(auth_url, person, IdTokenTweak::None)
    }

    /// As [`FakeProvider::authorize`], with an ID token spoiled as `tweak` says.
    pub fn authorize_with(&self, auth_url: &str, person: &FakePerson, tweak: IdTokenTweak) -> Authorized {
        grant(&self.shared, auth_url, person, tweak).unwrap_or_else(|refusal| panic!("{refusal}"))
    }

    /// Publishes the second key and signs with it from now on (a key rotation).
    pub fn rotate_signing_key(&self) {
        let mut state = lock(&self.shared);
        state.published = vec![TestKey::First, TestKey::Second];
        state.signing = TestKey::Second;
    }

    /// How many requests reached `route` (a path such as `/jwks`).
    pub async fn requests_to(&self, route: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == route)
            .count()
    }
}

impl FakeKind {
    fn authorize_path(self) -> &'static str {
        match self {
            Self::Google => "/authorize",
            Self::GitHub => "/login/oauth/authorize",
        }
    }
}

/// Checks an authorization request the way the provider would and issues a code bound
/// to its PKCE challenge, redirect URI and nonce; or says what a real provider would
/// refuse.
fn grant(
    shared: &Shared,
    auth_url: &str,
    person: &FakePerson,
    tweak: IdTokenTweak,
) -> Result<Authorized, String> {
    let url = Url::parse(auth_url).map_err(|error| format!("authorization URL {auth_url}: {error}"))?;
    let kind = lock(shared).kind;
    let expect = |holds: bool, what: &str| if holds { Ok(()) } else { Err(format!("{what} in {auth_url}")) };
    expect(url.path() == kind.authorize_path(), "wrong authorization path")?;
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let param = |name: &str| {
        query
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{name} missing from the authorization URL {auth_url}"))
    };
    expect(param("response_type")? == "code", "response_type is not code")?;
    expect(param("client_id")? == CLIENT_ID, "unknown client_id")?;
    expect(param("code_challenge_method")? == "S256", "PKCE S256 is required")?;
    let challenge = param("code_challenge")?;
    expect(challenge.len() == 43, "an S256 challenge is 43 characters")?;
    let scopes = param("scope")?;
    let has_scope = |wanted: &str| scopes.split(' ').any(|scope| scope == wanted);
    let nonce = match kind {
        FakeKind::Google => {
            expect(has_scope("openid") && has_scope("email"), "scopes openid and email missing")?;
            Some(param("nonce")?)
        }
        FakeKind::GitHub => {
            expect(has_scope("user:email"), "scope user:email missing")?;
            None
        }
    };
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let redirect_uri = param("redirect_uri")?;
    let grant = Grant { challenge, redirect_uri: redirect_uri.clone(), nonce, person: person.clone(), tweak };
    lock(shared).grants.insert(code.clone(), grant);
    Ok(Authorized { code, state: param("state")?, redirect_uri })
}

/// The authorization endpoint as a browser sees it: consent at once, then a redirect.
struct ConsentEndpoint {
    shared: Shared,
    uri: String,
    person: FakePerson,
}

impl Respond for ConsentEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth_url =
            format!("{}{}?{}", self.uri, request.url.path(), request.url.query().unwrap_or_default());
        let authorized = match grant(&self.shared, &auth_url, &self.person, IdTokenTweak::None) {
            Ok(authorized) => authorized,
            Err(refusal) => return ResponseTemplate::new(400).set_body_string(refusal),
        };
        let Ok(mut back) = Url::parse(&authorized.redirect_uri) else {
            return ResponseTemplate::new(400).set_body_string("redirect_uri is not a URL");
        };
        back.query_pairs_mut().append_pair("code", &authorized.code).append_pair("state", &authorized.state);
        ResponseTemplate::new(302).insert_header("Location", back.as_str())
    }
}

fn oauth_error(kind: FakeKind, code: &str, status_elsewhere: u16) -> ResponseTemplate {
    // GitHub answers token errors with 200; others with a 4xx.
    let status = if kind == FakeKind::GitHub { 200 } else { status_elsewhere };
    ResponseTemplate::new(status)
        .set_body_json(json!({ "error": code, "error_description": "refused by the fake" }))
}

struct TokenEndpoint(Shared);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> =
            oauth2::url::form_urlencoded::parse(&request.body).into_owned().collect();
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let mut state = lock(&self.0);
        let kind = state.kind;
        if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
            let code =
                if kind == FakeKind::GitHub { "incorrect_client_credentials" } else { "invalid_client" };
            return oauth_error(kind, code, 401);
        }
        if field("grant_type") != "authorization_code" {
            return oauth_error(kind, "unsupported_grant_type", 400);
        }
        let refused = if kind == FakeKind::GitHub { "bad_verification_code" } else { "invalid_grant" };
        // A code is spent by any attempt, right or wrong, as at the real providers.
        let Some(grant) = state.grants.remove(field("code")) else {
            return oauth_error(kind, refused, 400);
        };
        let verifier_matches =
            URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes())) == grant.challenge;
        if !verifier_matches || field("redirect_uri") != grant.redirect_uri {
            return oauth_error(kind, refused, 400);
        }
        let access_token = format!("token-{}", uuid::Uuid::new_v4().simple());
        match kind {
            FakeKind::GitHub => {
                state.access_tokens.insert(access_token.clone(), grant.person);
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": access_token, "token_type": "bearer", "scope": "read:user,user:email",
                }))
            }
            FakeKind::Google => {
                let mut body = json!({
                    "access_token": access_token, "token_type": "Bearer", "expires_in": 3599, "scope": "openid email",
                });
                if grant.tweak != IdTokenTweak::Missing {
                    body["id_token"] = Value::String(id_token(&state, &grant));
                }
                ResponseTemplate::new(200).set_body_json(body)
            }
        }
    }
}

fn id_token(state: &FakeState, grant: &Grant) -> String {
    let now = Utc::now();
    let mut content = IdTokenContent {
        issuer: state.issuer.clone(),
        audience: CLIENT_ID.to_owned(),
        subject: grant.person.subject.clone(),
        email: grant.person.email.clone(),
        email_verified: grant.person.email_verified,
        nonce: grant.nonce.clone(),
        issued_at: now,
        expires_at: now + Duration::hours(1),
    };
    let mut key = state.signing;
    match grant.tweak {
        IdTokenTweak::WrongAudience => content.audience = "someone-elses-client".to_owned(),
        IdTokenTweak::WrongNonce => content.nonce = Some("a-nonce-from-another-sign-in".to_owned()),
        IdTokenTweak::WrongIssuer => content.issuer = "https://issuer.invalid".to_owned(),
        IdTokenTweak::Expired => {
            content.issued_at = now - Duration::hours(2);
            content.expires_at = now - Duration::hours(1);
        }
        IdTokenTweak::UnpublishedKey => {
            key = if state.published.contains(&TestKey::Second) { TestKey::First } else { TestKey::Second };
            if state.published.contains(&key) {
                panic!("every test key is published; nothing is left to sign with an unknown key");
            }
        }
        IdTokenTweak::None | IdTokenTweak::Tampered | IdTokenTweak::Missing => {}
    }
    let signed = key.sign(content.claims());
    if grant.tweak == IdTokenTweak::Tampered { tamper(&signed) } else { signed }
}

/// The same token with its payload's `email` changed and the signature left as it was.
fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else { panic!("not a compact JWT: {token}") };
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap_or_default())
        .unwrap_or_else(|error| panic!("test token payload: {error}"));
    claims["email"] = Value::String("attacker@example.com".to_owned());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.{signature}")
}

struct JwksEndpoint(Shared);

impl Respond for JwksEndpoint {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let published = lock(&self.0).published.clone();
        let set = CoreJsonWebKeySet::new(published.into_iter().map(TestKey::jwk).collect());
        ResponseTemplate::new(200).set_body_json(set)
    }
}

#[derive(Debug, Clone, Copy)]
enum ApiAnswer {
    User,
    Emails,
}

struct ApiEndpoint {
    shared: Shared,
    answer: ApiAnswer,
}

impl Respond for ApiEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let token = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        let state = lock(&self.shared);
        let Some(person) = state.access_tokens.get(token) else {
            return ResponseTemplate::new(401).set_body_json(json!({ "message": "Bad credentials" }));
        };
        match self.answer {
            ApiAnswer::User => {
                let id: u64 = person.subject.parse().unwrap_or_else(|_| panic!("GitHub ids are numeric"));
                ResponseTemplate::new(200).set_body_json(json!({ "id": id, "login": format!("user{id}") }))
            }
            ApiAnswer::Emails => {
                let mut emails = vec![json!({
                    "email": person.email, "primary": true, "verified": person.email_verified, "visibility": "private",
                })];
                for (email, verified) in &person.other_emails {
                    emails.push(
                        json!({ "email": email, "primary": false, "verified": verified, "visibility": null }),
                    );
                }
                ResponseTemplate::new(200).set_body_json(Value::Array(emails))
            }
        }
    }
}
