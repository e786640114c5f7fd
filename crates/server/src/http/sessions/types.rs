//! Request and response bodies of the token and session routes, and the token pair
//! every sign-in answers with.

use actix_web::{HttpResponse, HttpResponseBuilder};
use otp_core::crypto::{AccessClaims, rfc3339};
use otp_core::domain::{Device, Session, User};
use otp_core::{SessionId, SignedIn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::secret::Secret;

/// A 200 that no cache may keep (it carries tokens or account data).
pub(crate) fn private_ok() -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header(("Cache-Control", "no-store"));
    response
}

/// The answer of every flow that signs in: 200 with the token pair.
pub(crate) fn signed_in_response(signed_in: SignedIn) -> HttpResponse {
    private_ok().json(TokenResponse::from(signed_in))
}

/// A refresh token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The refresh token from the last token response; it works once.
    #[schema(value_type = String, format = Password)]
    pub refresh_token: Secret,
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
    /// The same as `email_verified`, under the name the Python services' clients read.
    pub is_verified: bool,
    /// Whether the account can log in with a password.
    pub has_password: bool,
    /// When the account was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the address was first verified (RFC 3339).
    #[schema(format = DateTime)]
    pub email_verified_at: Option<String>,
    /// The language chosen for mail and the page (`PUT me/locale`, or at registration);
    /// `null`: each request's `Accept-Language`, else the server's default.
    #[schema(example = "fr")]
    pub locale: Option<String>,
}

/// The language to keep for mail and the page.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LocaleRequest {
    /// A language the service has texts for (`en`, `de`, `fr`, `es`, and any the
    /// operator added), or `null` to follow each request's `Accept-Language` again.
    #[schema(example = "fr", max_length = 35)]
    pub locale: Option<String>,
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
    /// Answered by every sign-in (not by `refresh`): this device's token. Keep it
    /// (the web page keeps it in `localStorage`) and send it as `X-Device-Token` on
    /// every auth request: it gives the device its own rate-limit budgets and its own
    /// code re-check window at `login`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "0b6f1c1e4a5d4f4f9a3b2c1d0e9f8a7b.PLBp-cqHZ9IXuznxZ7vWoee9oky-20KyiuR_zr9H38k")]
    pub device_token: Option<String>,
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
            device_token: signed_in.device_token,
            user: UserView::from(&signed_in.user),
        }
    }
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

/// One remembered device.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceView {
    /// The device id (the first part of its device token); forget it with
    /// `DELETE devices/{id}`.
    #[schema(format = Uuid)]
    pub id: String,
    /// When it was first remembered (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last signed in (RFC 3339).
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// When a code was last entered on it (RFC 3339), if ever.
    #[schema(format = DateTime)]
    pub code_verified_at: Option<String>,
    /// The client address when it was remembered.
    pub ip: Option<String>,
    /// The `User-Agent` when it was remembered, cut to 256 characters.
    pub user_agent: Option<String>,
}

impl From<&Device> for DeviceView {
    fn from(device: &Device) -> Self {
        Self {
            id: device.id.to_string(),
            created_at: rfc3339(device.created_at),
            last_used_at: rfc3339(device.last_used_at),
            code_verified_at: device.code_verified_at.map(rfc3339),
            ip: device.ip.map(|ip| ip.to_string()),
            user_agent: device.user_agent.clone(),
        }
    }
}

/// The caller's active sessions and remembered devices, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsResponse {
    /// Newest first.
    pub sessions: Vec<SessionView>,
    /// The remembered devices, newest first.
    pub devices: Vec<DeviceView>,
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

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            email_verified: user.is_verified(),
            is_verified: user.is_verified(),
            has_password: user.password_hash.is_some(),
            created_at: rfc3339(user.created_at),
            email_verified_at: user.email_verified_at.map(rfc3339),
            locale: user.locale.as_ref().map(|locale| locale.as_str().to_owned()),
        }
    }
}

/// An introspection request (RFC 7662), sent as a form.
#[derive(Deserialize, ToSchema)]
pub(crate) struct IntrospectRequest {
    /// The access token to check.
    pub token: String,
    /// `access_token` (optional; other hints are ignored: only access tokens are
    /// introspected).
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
}

/// What an introspection found (RFC 7662). Inactive tokens are answered with exactly
/// `{"active": false}`; the other fields are present only for an active one.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "active": true, "sub": "0190b7a2-1b6e-7c1e-9a4e-5a1f2b3c4d5e", "sid": "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e",
    "jti": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "iss": "otp-auth", "aud": "otp-auth", "exp": 1767263400,
    "iat": 1767261600, "token_type": "access_token", "email": "ada@example.com", "email_verified": true,
    "amr": ["otp"]
}))]
pub(crate) struct IntrospectionResponse {
    /// Whether the token is live: valid signature, not expired, its session not
    /// ended, its account enabled.
    pub active: bool,
    /// The user's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub sub: Option<String>,
    /// The session's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub sid: Option<String>,
    /// The token's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Uuid)]
    pub jti: Option<String>,
    /// The issuer (`TOKEN_ISSUER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The audience (`TOKEN_AUDIENCE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Expiry, in seconds since the Unix epoch (RFC 7662; the token itself says RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Always `access_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// The account's address when the token was signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether that address was verified then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// How the session signed in (`otp`, `pwd`, `oauth:google`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// `admin` for administrators; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl IntrospectionResponse {
    /// The answer for a live token with `claims`, issued by `issuer` for `audience`.
    pub fn active(claims: AccessClaims, issuer: &str, audience: &str) -> Self {
        Self {
            active: true,
            sub: Some(claims.user_id.to_string()),
            sid: Some(claims.session_id.to_string()),
            jti: Some(claims.token_id.to_string()),
            iss: Some(issuer.to_owned()),
            aud: Some(audience.to_owned()),
            exp: Some(claims.expires_at.unix_timestamp()),
            iat: Some(claims.issued_at.unix_timestamp()),
            token_type: Some("access_token"),
            email: claims.email,
            email_verified: claims.email_verified,
            amr: (!claims.amr.is_empty()).then_some(claims.amr),
            role: claims.role,
        }
    }

    /// `{"active": false}`.
    pub fn inactive() -> Self {
        Self {
            active: false,
            sub: None,
            sid: None,
            jti: None,
            iss: None,
            aud: None,
            exp: None,
            iat: None,
            token_type: None,
            email: None,
            email_verified: None,
            amr: None,
            role: None,
        }
    }
}
