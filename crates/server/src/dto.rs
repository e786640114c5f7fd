//! Request and response bodies. Requests refuse unknown fields; secrets are read into
//! `SecretString`s so they never print.

use otp_core::crypto::rfc3339;
use otp_core::domain::{Session, User};
use otp_core::{EmailAddress, SessionId, SignedIn};
use secrecy::SecretString;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A secret field (code, password, token): only a JSON string is accepted, and a
/// value of another type is refused without echoing it into the error.
pub(crate) struct Secret(pub SecretString);

impl Secret {
    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: de::Error>(self) -> Result<Secret, E> {
        Err(E::custom(
            "secret fields (code, otp, password, new_password, refresh_token, state) must be JSON strings",
        ))
    }
}

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret(SecretString::from(value)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        self.refuse()
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        self.refuse()
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRequest {
    pub email: EmailAddress,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    pub email: EmailAddress,
    /// `otp` is accepted for clients of the Python services.
    #[serde(alias = "otp")]
    pub code: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialsRequest {
    pub email: EmailAddress,
    pub password: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    pub refresh_token: Secret,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    pub email: EmailAddress,
    #[serde(alias = "otp")]
    pub code: Secret,
    pub new_password: Secret,
}

#[derive(Serialize)]
pub(crate) struct UserView {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub has_password: bool,
    pub created_at: String,
    pub email_verified_at: Option<String>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            email_verified: user.is_verified(),
            has_password: user.password_hash.is_some(),
            created_at: rfc3339(user.created_at),
            email_verified_at: user.email_verified_at.map(rfc3339),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    pub user: UserView,
}

impl From<SignedIn> for TokenResponse {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            access_token: signed_in.access_token,
            token_type: "Bearer",
            expires_in: signed_in.expires_in.as_secs(),
            refresh_token: signed_in.refresh_token,
            user: UserView::from(&signed_in.user),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuthStartQuery {
    pub redirect_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuthCallbackRequest {
    pub code: Secret,
    pub state: Secret,
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct OAuthProvidersResponse {
    pub providers: Vec<&'static str>,
}

#[derive(Serialize)]
pub(crate) struct OAuthStartResponse {
    pub provider: String,
    pub auth_url: String,
    pub state: String,
}

/// The usual token response, plus the provider signed in with.
#[derive(Serialize)]
pub(crate) struct OAuthSignedIn {
    #[serde(flatten)]
    pub tokens: TokenResponse,
    pub provider: &'static str,
}

#[derive(Serialize)]
pub(crate) struct CodeSent {
    pub message: &'static str,
    pub expires_in: u64,
}

#[derive(Serialize)]
pub(crate) struct CodeRequired {
    pub otp_required: bool,
    pub message: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<u64>,
}

#[derive(Serialize)]
pub(crate) struct Message {
    pub message: &'static str,
}

#[derive(Serialize)]
pub(crate) struct SessionView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
}

impl SessionView {
    pub fn new(session: &Session, current: SessionId) -> Self {
        Self {
            id: session.id.to_string(),
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            expires_at: rfc3339(session.expires_at),
            ip: session.ip.map(|ip| ip.to_string()),
            user_agent: session.user_agent.clone(),
            current: session.id == current,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct SessionsResponse {
    pub sessions: Vec<SessionView>,
}

#[derive(Serialize)]
pub(crate) struct PublicKey {
    pub kid: String,
    pub paserk: String,
    pub version: &'static str,
    pub purpose: &'static str,
    pub current: bool,
}

#[derive(Serialize)]
pub(crate) struct KeysResponse {
    pub issuer: String,
    pub audience: String,
    pub keys: Vec<PublicKey>,
}
