//! Tokens minted by otp-core, and an auth server's `/auth/keys` served by wiremock.

use std::time::Duration;

use otp_core::crypto::{AccessClaims, AccessTokens, Keyring, SigningKey, TokenSubject, VerifyingKey};
use otp_core::domain::{AuthMethod, Role, User};
use otp_core::{EmailAddress, SessionId};
use otp_verify::{KeySet, Verifier};
use serde_json::{Value, json};
use time::OffsetDateTime;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const ISSUER: &str = "otp-auth";
pub const AUDIENCE: &str = "otp-auth-clients";
pub const LIFETIME: Duration = Duration::from_secs(1800);

/// An otp-server's token signer, as otp-core builds it.
#[derive(Clone)]
pub struct Issuer {
    tokens: AccessTokens,
}

impl Issuer {
    pub fn new() -> Self {
        Self::with_keyring(Keyring::new(SigningKey::generate().unwrap(), vec![]), ISSUER, AUDIENCE)
    }

    fn with_keyring(keyring: Keyring, issuer: &str, audience: &str) -> Self {
        Self { tokens: AccessTokens::new(keyring, issuer.into(), audience.into(), LIFETIME) }
    }

    /// The same keys, naming another issuer and audience in its tokens.
    pub fn claiming(&self, issuer: &str, audience: &str) -> Self {
        Self::with_keyring(self.tokens.keyring().clone(), issuer, audience)
    }

    /// After a key rotation: a new signing key; the old one still verifies.
    pub fn rotated(&self) -> Self {
        let previous = self.tokens.keyring().current().verifying_key().clone();
        let keyring = Keyring::new(SigningKey::generate().unwrap(), vec![previous]);
        Self::with_keyring(keyring, ISSUER, AUDIENCE)
    }

    pub fn token(&self) -> String {
        self.token_at(OffsetDateTime::now_utc())
    }

    pub fn token_at(&self, at: OffsetDateTime) -> String {
        let user = User::new_verified(EmailAddress::parse("ada@example.com").unwrap(), at);
        let subject = TokenSubject {
            user: &user,
            session_id: SessionId::generate(),
            auth_methods: &[AuthMethod::Otp],
            role: Role::User,
        };
        self.tokens.issue(subject, at).unwrap()
    }

    /// What otp-core itself reads from `token`.
    pub fn claims_of(&self, token: &str) -> AccessClaims {
        self.tokens.verify(token, OffsetDateTime::now_utc()).unwrap()
    }

    fn verifying_keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.tokens.keyring().verifying_keys()
    }

    /// The verifying keys as PASERKs separated by commas.
    pub fn paserks(&self) -> String {
        self.verifying_keys().map(VerifyingKey::to_paserk).collect::<Vec<_>>().join(",")
    }

    /// The body of `GET /auth/keys`, as otp-server answers it.
    pub fn keys_document(&self) -> Value {
        let keys: Vec<Value> = self
            .verifying_keys()
            .enumerate()
            .map(|(index, key)| {
                json!({"kid": key.kid(), "paserk": key.to_paserk(), "version": "v4", "purpose": "public", "current": index == 0})
            })
            .collect();
        json!({"issuer": ISSUER, "audience": AUDIENCE, "keys": keys})
    }

    /// A verifier with these keys fixed, expecting the usual issuer and audience.
    pub fn fixed_verifier(&self) -> Verifier {
        Verifier::builder()
            .public_keys(KeySet::parse(&self.paserks()).unwrap())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .unwrap()
    }
}

/// The answer otp-server gives to `GET /auth/keys`.
pub fn keys_answer(issuer: &Issuer, cache_control: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("Cache-Control", cache_control)
        .set_body_json(issuer.keys_document())
}

/// Serves `issuer`'s keys at `/auth/keys` until [`serve_keys`] is called again.
pub async fn serve_keys(server: &MockServer, issuer: &Issuer, cache_control: &str) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/auth/keys"))
        .respond_with(keys_answer(issuer, cache_control))
        .mount(server)
        .await;
}

/// How many times `/auth/keys` was asked.
pub async fn key_fetches(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|request| request.url.path() == "/auth/keys")
        .count()
}

/// `token` with one character of its payload changed.
pub fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = "v4.public.".len() + 12;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// A port nothing listens on.
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
