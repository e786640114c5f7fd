//! Request and response bodies. Requests refuse unknown fields; secrets are read into
//! `SecretString`s so they never print.

use otp_core::crypto::rfc3339;
use otp_core::domain::{AuditEntry, Role, Session, User};
use otp_core::{EmailAddress, SessionId, SignedIn};
use secrecy::SecretString;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// An email address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailRequest {
    /// Trimmed and lower-cased; at most 254 characters; a plain `local@domain.tld` address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
}

/// A code for an address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyRequest {
    /// The address the code was sent to.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// Exactly `OTP_LENGTH` digits (6 by default); surrounding white space is ignored.
    /// `otp` is accepted as an alias, for clients of the Python services.
    #[serde(alias = "otp")]
    #[schema(value_type = String, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    pub code: Secret,
}

/// An address and a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialsRequest {
    /// The account's address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// At `register`: 8 to 128 characters. At `login`: any string.
    #[schema(value_type = String, format = Password, example = "correct horse battery")]
    pub password: Secret,
}

/// A refresh token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The refresh token from the last token response; it works once.
    #[schema(value_type = String, format = Password)]
    pub refresh_token: Secret,
}

/// A reset code and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    /// The account's address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.com")]
    pub email: EmailAddress,
    /// The reset code from the mail (`otp` is accepted as an alias).
    #[serde(alias = "otp")]
    #[schema(value_type = String, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    pub code: Secret,
    /// 8 to 128 characters.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: Secret,
}

/// An account.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserView {
    /// The account id, also the `sub` claim of access tokens.
    #[schema(format = Uuid)]
    pub id: String,
    /// The normalised address.
    #[schema(format = Email)]
    pub email: String,
    /// Whether a code sent to the address has been entered.
    pub email_verified: bool,
    /// Whether the account can log in with a password.
    pub has_password: bool,
    /// When the account was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the address was first verified (RFC 3339).
    #[schema(format = DateTime)]
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

/// A signed-in session's tokens. Sent with `Cache-Control: no-store`.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// PASETO v4.public token; send it as `Authorization: Bearer ...`.
    #[schema(example = "v4.public.eyJzdWIiOi...")]
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Access-token lifetime in seconds.
    #[schema(example = 1800)]
    pub expires_in: u64,
    /// Opaque; exchange it at `refresh`. Shown once.
    pub refresh_token: String,
    /// The account.
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

/// `GET /auth/oauth/{provider}/start` query string.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OAuthStartQuery {
    /// Where the provider sends the browser back (with `code` and `state`). It must be
    /// the provider's configured redirect URI or on `OAUTH_ALLOWED_REDIRECT_URIS`,
    /// compared exactly. Default: the provider's configured redirect URI.
    #[param(example = "http://127.0.0.1:8080/oauth/callback")]
    pub redirect_uri: Option<String>,
}

/// What the provider sent back to the redirect URI.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuthCallbackRequest {
    /// The `code` query parameter the provider added to the redirect URI.
    #[schema(value_type = String, format = Password)]
    pub code: Secret,
    /// The `state` query parameter: the one `start` answered; it works once.
    #[schema(value_type = String, format = Password)]
    pub state: Secret,
    /// The redirect URI the sign-in was started with; if given, it must be that one.
    #[serde(default)]
    #[schema(example = "http://127.0.0.1:8080/oauth/callback")]
    pub redirect_uri: Option<String>,
}

/// The providers one can sign in with here.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthProvidersResponse {
    /// The configured providers, in a stable order (`google`, then `github`).
    #[schema(example = json!(["google", "github"]))]
    pub providers: Vec<&'static str>,
}

/// A started sign-in: send the browser to `auth_url`.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthStartResponse {
    /// The provider.
    #[schema(example = "google")]
    pub provider: String,
    /// The provider's authorization page, with client id, redirect URI, scopes, `state`
    /// and the PKCE challenge.
    pub auth_url: String,
    /// The sign-in's `state` (also in `auth_url`); the provider sends it back.
    pub state: String,
}

/// The usual token response, plus the provider signed in with.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthSignedIn {
    /// The token pair and the account.
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The provider signed in with.
    #[schema(example = "github")]
    pub provider: &'static str,
}

/// A code was issued (the same answer for every address).
#[derive(Serialize, ToSchema)]
pub(crate) struct CodeSent {
    /// For people.
    #[schema(example = "If the address can receive mail, a code has been sent to it.")]
    pub message: &'static str,
    /// The code's lifetime in seconds.
    #[schema(example = 300)]
    pub expires_in: u64,
}

/// The password was right, and a code must now be entered at `verify-otp`.
#[derive(Serialize, ToSchema)]
pub(crate) struct CodeRequired {
    /// Always `true`.
    pub otp_required: bool,
    /// For people.
    #[schema(example = "Enter the code sent to your email address to finish logging in.")]
    pub message: &'static str,
    /// Seconds left in the code's lifetime.
    #[schema(example = 300)]
    pub expires_in: u64,
    /// Present when no new code was sent because one went out within the cooldown:
    /// the seconds until a new code may be asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<u64>,
}

/// A confirmation for people.
#[derive(Serialize, ToSchema)]
pub(crate) struct Message {
    /// What happened.
    pub message: &'static str,
}

/// One active session.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionView {
    /// The session id (the `sid` claim, and the first part of its refresh token).
    #[schema(format = Uuid)]
    pub id: String,
    /// When the session began (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When its refresh token was last rotated, or when it began (RFC 3339).
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// When its current refresh token stops working (RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The client address when the session began.
    pub ip: Option<String>,
    /// The `User-Agent` when it began, cut to 256 characters.
    pub user_agent: Option<String>,
    /// Whether this is the session of the token making the request.
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

/// The caller's active sessions, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsResponse {
    /// Newest first.
    pub sessions: Vec<SessionView>,
}

/// A public key that verifies access tokens.
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicKey {
    /// The key's PASERK id; tokens name their key with it in the footer.
    #[schema(example = "k4.pid.LlDiLtyKi45b6S5W0M9Aaf9w-5yPRvOBnIho9U2L-6qy")]
    pub kid: String,
    /// The Ed25519 public key as a `k4.public.` PASERK.
    #[schema(example = "k4.public.tw5OhDOLnhrLV01bHJGTt3fy1ZypJeFddwXp2iEjc8Q")]
    pub paserk: String,
    /// Always `v4`.
    #[schema(example = "v4")]
    pub version: &'static str,
    /// Always `public`.
    #[schema(example = "public")]
    pub purpose: &'static str,
    /// Whether this key signs new tokens (listed first).
    pub current: bool,
}

/// The keys that verify access tokens, and the claims every token carries.
#[derive(Serialize, ToSchema)]
pub(crate) struct KeysResponse {
    /// The `iss` claim of every token.
    pub issuer: String,
    /// The `aud` claim of every token.
    pub audience: String,
    /// The current key first, then earlier keys that still verify.
    pub keys: Vec<PublicKey>,
}

/// `GET /admin/users` and `GET /admin/audit-log` query strings.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Text the address must contain, case-insensitively (users only; at most 254
    /// characters).
    pub q: Option<String>,
    /// Items per page: 1 to 100 (more is cut to 100). Default: 50.
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `PUT /admin/users/{id}/role`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRequest {
    /// `user` or `admin` (only a verified account may be made an admin).
    #[schema(example = "admin")]
    pub role: String,
}

/// An account as administrators see it; `role` is the role that counts.
#[derive(Serialize, ToSchema)]
pub(crate) struct AdminUserView {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub email_verified_at: Option<String>,
    pub has_password: bool,
    pub role: &'static str,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_code_verified_at: Option<String>,
}

impl AdminUserView {
    pub fn new(user: &User, role: Role) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            email_verified: user.is_verified(),
            email_verified_at: user.email_verified_at.map(rfc3339),
            has_password: user.password_hash.is_some(),
            role: role.as_str(),
            disabled: user.disabled,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
            last_code_verified_at: user.last_code_verified_at.map(rfc3339),
        }
    }
}

/// A page of accounts.
#[derive(Serialize, ToSchema)]
pub(crate) struct UsersResponse {
    pub users: Vec<AdminUserView>,
    pub next_cursor: Option<String>,
}

/// How many sessions an administrator ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsRevoked {
    pub sessions_ended: u64,
}

/// One administrator action: who, what, on whom, when, from where.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditEntryView {
    pub id: String,
    pub at: String,
    pub actor_id: String,
    pub actor_email: String,
    pub action: &'static str,
    pub target_id: Option<String>,
    pub target_email: Option<String>,
    pub ip: Option<String>,
}

impl From<&AuditEntry> for AuditEntryView {
    fn from(entry: &AuditEntry) -> Self {
        Self {
            id: entry.id.to_string(),
            at: rfc3339(entry.at),
            actor_id: entry.actor_id.to_string(),
            actor_email: entry.actor_email.to_string(),
            action: entry.action.as_str(),
            target_id: entry.target_id.map(|id| id.to_string()),
            target_email: entry.target_email.as_ref().map(ToString::to_string),
            ip: entry.ip.map(|ip| ip.to_string()),
        }
    }
}

/// A page of audit entries.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditLogResponse {
    pub entries: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

/// The process is up.
#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Whether every backing service answers.
#[derive(Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready` or `unavailable`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// Each check (`database`, `redis`, `storage`, `mail`) and its result, `ok` or
    /// `unavailable`.
    #[schema(example = json!({"mail": "ok", "storage": "ok"}))]
    pub checks: std::collections::BTreeMap<String, &'static str>,
}
