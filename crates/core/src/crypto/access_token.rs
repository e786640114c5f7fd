//! PASETO v4.public access tokens: signed claims that other services verify offline.

use std::time::Duration;

use pasetors::Public;
use pasetors::token::UntrustedToken;
use pasetors::version4::{PublicToken, V4};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::keys::Keyring;
use crate::domain::{AuthMethod, Role, SessionId, User, UserId};
use crate::error::BoxError;

/// Longest token text accepted before any parsing.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// What a verified access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user (`sub`).
    pub user_id: UserId,
    /// The session (`sid`).
    pub session_id: SessionId,
    /// Unique token id (`jti`).
    pub token_id: Uuid,
    /// Issued at (`iat`).
    pub issued_at: OffsetDateTime,
    /// Expires at (`exp`).
    pub expires_at: OffsetDateTime,
    /// The account's address when the token was issued (`email`); `None` in tokens
    /// issued before the claim existed.
    pub email: Option<String>,
    /// Whether that address was verified (`email_verified`); `None` in older tokens.
    pub email_verified: Option<bool>,
    /// How the session signed in (`amr`: `otp`, `pwd`, `oauth:{provider}`); empty in
    /// older tokens.
    pub amr: Vec<String>,
    /// `admin` for administrators (`role`); `None` otherwise.
    pub role: Option<String>,
}

/// Who a new access token is for, and what it says about them.
#[derive(Debug, Clone, Copy)]
pub struct TokenSubject<'a> {
    /// The account (its id, address and verification state go into the token).
    pub user: &'a User,
    /// The session the token belongs to.
    pub session_id: SessionId,
    /// How the session signed in.
    pub auth_methods: &'a [AuthMethod],
    /// The role that counts for the account (only [`Role::Admin`] is written).
    pub role: Role,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireClaims {
    sub: UserId,
    sid: SessionId,
    jti: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    iat: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    exp: OffsetDateTime,
    iss: String,
    aud: String,
    // The claims below were added later: tokens without them still verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Footer {
    kid: String,
}

/// Why an access token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Malformed, too long, signed by an unknown key, forged, for another issuer or
    /// audience, or issued in the future.
    #[error("access token is invalid")]
    Invalid,
    /// Past its `exp`.
    #[error("access token has expired")]
    Expired,
}

/// A token could not be signed (a bug, never the caller's doing).
#[derive(Debug, thiserror::Error)]
#[error("signing an access token: {0}")]
pub struct SigningError(#[source] BoxError);

/// Signs and verifies access tokens for one issuer and audience.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    keyring: Keyring,
    issuer: String,
    audience: String,
    lifetime: Duration,
}

impl AccessTokens {
    /// Tokens signed with `keyring`'s current key, valid for `lifetime`.
    pub fn new(keyring: Keyring, issuer: String, audience: String, lifetime: Duration) -> Self {
        Self { keyring, issuer, audience, lifetime }
    }

    /// The keyring (for publishing public keys).
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The `iss` of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` of every token.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// How long a new token lives.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A new token for `subject`, issued at `now`.
    ///
    /// # Errors
    /// [`SigningError`] when signing fails.
    pub fn issue(&self, subject: TokenSubject<'_>, now: OffsetDateTime) -> Result<String, SigningError> {
        let issued_at = now.replace_nanosecond(0).unwrap_or(now);
        let user = subject.user;
        let claims = WireClaims {
            sub: user.id,
            sid: subject.session_id,
            jti: Uuid::new_v4(),
            iat: issued_at,
            exp: issued_at + self.lifetime,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            email: Some(user.email.as_str().to_owned()),
            email_verified: Some(user.is_verified()),
            amr: subject.auth_methods.iter().map(AuthMethod::as_claim).collect(),
            role: (subject.role == Role::Admin).then(|| Role::Admin.as_str().to_owned()),
        };
        let key = self.keyring.current();
        let footer = Footer { kid: key.verifying_key().kid().to_owned() };
        let message = serde_json::to_vec(&claims).map_err(|error| SigningError(error.into()))?;
        let footer = serde_json::to_vec(&footer).map_err(|error| SigningError(error.into()))?;
        PublicToken::sign(key.secret(), &message, Some(&footer), None)
            .map_err(|error| SigningError(error.to_string().into()))
    }

    /// Verifies the signature (with the key named in the footer), issuer, audience and
    /// lifetime at `now`.
    ///
    /// # Errors
    /// [`TokenError::Expired`] past its lifetime, [`TokenError::Invalid`] for anything
    /// else that does not check out.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, TokenError> {
        let invalid = || TokenError::Invalid;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        let untrusted = UntrustedToken::<Public, V4>::try_from(token).map_err(|_| invalid())?;
        let footer: Footer = serde_json::from_slice(untrusted.untrusted_footer()).map_err(|_| invalid())?;
        let key = self.keyring.find(&footer.kid).ok_or_else(invalid)?;
        let trusted = PublicToken::verify(key.public(), &untrusted, None, None).map_err(|_| invalid())?;
        let claims: WireClaims = serde_json::from_str(trusted.payload()).map_err(|_| invalid())?;
        if claims.iss != self.issuer || claims.aud != self.audience {
            return Err(invalid());
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + Duration::from_secs(60) {
            return Err(invalid());
        }
        Ok(AccessClaims {
            user_id: claims.sub,
            session_id: claims.sid,
            token_id: claims.jti,
            issued_at: claims.iat,
            expires_at: claims.exp,
            email: claims.email,
            email_verified: claims.email_verified,
            amr: claims.amr,
            role: claims.role,
        })
    }
}

/// RFC 3339 text of a time, for responses.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

impl From<SigningError> for crate::error::Failure {
    fn from(error: SigningError) -> Self {
        Self::Internal(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{SigningKey, VerifyingKey};

    const LIFETIME: Duration = Duration::from_secs(1800);

    fn tokens_with(keyring: Keyring) -> AccessTokens {
        AccessTokens::new(keyring, "otp-auth".into(), "otp-auth-clients".into(), LIFETIME)
    }

    fn fresh_tokens() -> AccessTokens {
        tokens_with(Keyring::new(SigningKey::generate().unwrap(), vec![]))
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn user() -> User {
        User::new_verified(crate::EmailAddress::parse("ada@example.com").unwrap(), now())
    }

    /// A token for a new session of a new verified user, signed in by code.
    fn issue(tokens: &AccessTokens, at: OffsetDateTime) -> String {
        let user = user();
        let subject = TokenSubject {
            user: &user,
            session_id: SessionId::generate(),
            auth_methods: &[AuthMethod::Otp],
            role: Role::User,
        };
        tokens.issue(subject, at).unwrap()
    }

    #[test]
    fn a_fresh_token_verifies_and_carries_its_claims() {
        let tokens = fresh_tokens();
        let (user, session, at) = (user(), SessionId::generate(), now());
        let methods = [AuthMethod::Password, AuthMethod::Otp];
        let subject =
            TokenSubject { user: &user, session_id: session, auth_methods: &methods, role: Role::Admin };
        let token = tokens.issue(subject, at).unwrap();
        assert!(token.starts_with("v4.public."));
        let claims = tokens.verify(&token, at).unwrap();
        assert_eq!((claims.user_id, claims.session_id), (user.id, session));
        assert_eq!(claims.expires_at - claims.issued_at, time::Duration::seconds(1800));
        assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
        assert_eq!(claims.email_verified, Some(true));
        assert_eq!(claims.amr, ["pwd", "otp"]);
        assert_eq!(claims.role.as_deref(), Some("admin"));
    }

    #[test]
    fn ordinary_accounts_carry_no_role_and_unverified_addresses_say_so() {
        let tokens = fresh_tokens();
        let user = User::new_unverified(crate::EmailAddress::parse("bo@example.com").unwrap(), None, now());
        let subject = TokenSubject {
            user: &user,
            session_id: SessionId::generate(),
            auth_methods: &[AuthMethod::oauth("github").unwrap()],
            role: Role::User,
        };
        let claims = tokens.verify(&tokens.issue(subject, now()).unwrap(), now()).unwrap();
        assert_eq!((claims.role, claims.email_verified), (None, Some(false)));
        assert_eq!(claims.amr, ["oauth:github"]);
    }

    #[test]
    fn tokens_signed_before_the_new_claims_still_verify() {
        let key = SigningKey::generate().unwrap();
        let tokens = tokens_with(Keyring::new(key.clone(), vec![]));
        let at = now().replace_nanosecond(0).unwrap();
        let old = serde_json::json!({
            "sub": UserId::generate(), "sid": SessionId::generate(), "jti": Uuid::new_v4(),
            "iat": rfc3339(at), "exp": rfc3339(at + LIFETIME), "iss": "otp-auth", "aud": "otp-auth-clients",
        });
        let footer = serde_json::json!({ "kid": key.verifying_key().kid() }).to_string();
        let token =
            PublicToken::sign(key.secret(), old.to_string().as_bytes(), Some(footer.as_bytes()), None)
                .unwrap();
        let claims = tokens.verify(&token, at).unwrap();
        assert_eq!((claims.email, claims.email_verified, claims.role), (None, None, None));
        assert!(claims.amr.is_empty());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let tokens = fresh_tokens();
        let at = now();
        let token = issue(&tokens, at);
        let error = tokens.verify(&token, at + LIFETIME).unwrap_err();
        assert_eq!(error.to_string(), "access token has expired");
    }

    #[test]
    fn tampered_and_foreign_tokens_are_refused() {
        let tokens = fresh_tokens();
        let at = now();
        let token = issue(&tokens, at);
        let mut tampered = token.clone().into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert!(tokens.verify(&String::from_utf8(tampered).unwrap(), at).is_err());
        assert!(fresh_tokens().verify(&token, at).is_err(), "another key must not verify");
        assert!(tokens.verify("v4.public.garbage", at).is_err());
        assert!(tokens.verify(&"x".repeat(MAX_TOKEN_BYTES + 1), at).is_err());
    }

    #[test]
    fn other_audiences_are_refused() {
        let key = SigningKey::generate().unwrap();
        let ours = tokens_with(Keyring::new(key.clone(), vec![]));
        let theirs =
            AccessTokens::new(Keyring::new(key, vec![]), "otp-auth".into(), "other".into(), LIFETIME);
        let token = issue(&theirs, now());
        assert!(ours.verify(&token, now()).is_err());
    }

    #[test]
    fn tokens_of_a_previous_key_verify_after_rotation() {
        let old_key = SigningKey::generate().unwrap();
        let old = tokens_with(Keyring::new(old_key.clone(), vec![]));
        let token = issue(&old, now());
        let previous = VerifyingKey::from_paserk(&old_key.verifying_key().to_paserk()).unwrap();
        let rotated = tokens_with(Keyring::new(SigningKey::generate().unwrap(), vec![previous]));
        assert!(rotated.verify(&token, now()).is_ok());
        let fresh = issue(&rotated, now());
        assert!(old.verify(&fresh, now()).is_err());
    }
}
