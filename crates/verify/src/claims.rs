//! The claims of a verified access token.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The role name an administrator's token carries in its `role` claim.
pub const ADMIN_ROLE: &str = "admin";

/// What a verified access token says about its holder.
///
/// Every token carries `sub`, `sid`, `jti`, `iat`, `exp`, `iss` and `aud`. The others
/// are optional: tokens issued before the server added them, or without them, still
/// verify (the field is `None`, or `amr` is empty). Claims this crate does not know are
/// ignored, so a newer server's tokens verify too.
///
/// | claim | field | meaning |
/// |---|---|---|
/// | `sub` | [`subject`](Self::subject) | the user's id |
/// | `sid` | [`session_id`](Self::session_id) | the session the token belongs to |
/// | `jti` | [`token_id`](Self::token_id) | this token's unique id |
/// | `iat` | [`issued_at`](Self::issued_at) | when it was issued (RFC 3339) |
/// | `exp` | [`expires_at`](Self::expires_at) | when it expires (RFC 3339) |
/// | `iss` | [`issuer`](Self::issuer) | who issued it (`TOKEN_ISSUER` of the server) |
/// | `aud` | [`audience`](Self::audience) | who it is for (`TOKEN_AUDIENCE`) |
/// | `email` | [`email`](Self::email) | the account's address when the token was issued |
/// | `email_verified` | [`email_verified`](Self::email_verified) | whether that address was verified |
/// | `amr` | [`amr`](Self::amr) | how the session signed in: `otp`, `pwd`, `oauth:google`, … |
/// | `role` | [`role`](Self::role) | `admin` for administrators; absent otherwise |
///
/// `email`, `email_verified` and `role` are what was true when the token was issued
/// (at most one access-token lifetime ago). For a decision that must see a demotion or
/// an address change at once, turn on the liveness check
/// ([`crate::VerifierBuilder::liveness`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// The user's id (`sub`).
    #[serde(rename = "sub")]
    pub subject: Uuid,
    /// The session's id (`sid`): every token of one sign-in shares it.
    #[serde(rename = "sid")]
    pub session_id: Uuid,
    /// This token's unique id (`jti`).
    #[serde(rename = "jti")]
    pub token_id: Uuid,
    /// When the token was issued (`iat`).
    #[serde(rename = "iat", with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When the token expires (`exp`).
    #[serde(rename = "exp", with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The issuer (`iss`).
    #[serde(rename = "iss")]
    pub issuer: String,
    /// The audience (`aud`).
    #[serde(rename = "aud")]
    pub audience: String,
    /// The account's address when the token was issued (`email`), if the token says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether that address was verified (`email_verified`), if the token says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// How the session signed in (`amr`, after RFC 8176's "authentication methods
    /// references"): `otp` (a code sent by mail), `pwd` (a password), `oauth:google`,
    /// `oauth:github`, … Empty when the token does not say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The account's role (`role`), present for administrators ([`ADMIN_ROLE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Claims {
    /// Claims with the required fields and none of the optional ones (set those on the
    /// result), for tests of code that takes [`Claims`] or a verified user.
    pub fn new(
        subject: Uuid,
        session_id: Uuid,
        token_id: Uuid,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            subject,
            session_id,
            token_id,
            issued_at,
            expires_at,
            issuer: issuer.into(),
            audience: audience.into(),
            email: None,
            email_verified: None,
            amr: Vec::new(),
            role: None,
        }
    }

    /// Whether the token says its holder is an administrator.
    pub fn is_admin(&self) -> bool {
        self.role.as_deref() == Some(ADMIN_ROLE)
    }

    /// Whether the token says its address is verified (`false` when it does not say).
    pub fn has_verified_email(&self) -> bool {
        self.email_verified == Some(true)
    }

    /// Whether the session signed in with `method` (an `amr` value such as `otp`, `pwd`
    /// or `oauth:google`).
    pub fn signed_in_with(&self, method: &str) -> bool {
        self.amr.iter().any(|used| used == method)
    }

    /// Parses the JSON payload of a token whose signature has been verified.
    pub(crate) fn from_payload(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""sub":"0190b7a2-1b6e-7c1e-9a4e-5a1f2b3c4d5e","sid":"6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e","jti":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","iat":"2026-01-01T10:00:00Z","exp":"2026-01-01T10:30:00Z","iss":"otp-auth","aud":"otp-auth""#;

    #[test]
    fn tokens_without_the_optional_claims_parse() {
        let claims = Claims::from_payload(&format!("{{{BASE}}}")).unwrap();
        assert_eq!(claims.issuer, "otp-auth");
        assert_eq!((claims.email, claims.email_verified, claims.role), (None, None, None));
        assert!(claims.amr.is_empty());
        assert_eq!(claims.expires_at - claims.issued_at, time::Duration::minutes(30));
    }

    #[test]
    fn the_optional_claims_are_typed() {
        let payload = format!(
            r#"{{{BASE},"email":"ada@example.com","email_verified":true,"amr":["otp","oauth:google"],"role":"admin"}}"#
        );
        let claims = Claims::from_payload(&payload).unwrap();
        assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
        assert!(claims.has_verified_email() && claims.is_admin());
        assert!(claims.signed_in_with("oauth:google") && !claims.signed_in_with("pwd"));
    }

    #[test]
    fn unknown_claims_are_ignored_and_missing_required_ones_refused() {
        assert!(Claims::from_payload(&format!(r#"{{{BASE},"future":{{"x":1}}}}"#)).is_ok());
        let without_sid =
            format!("{{{BASE}}}").replace(r#""sid":"6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e","#, "");
        assert!(Claims::from_payload(&without_sid).is_err());
        assert!(Claims::from_payload(&format!("{{{BASE}}}").replace("0190b7a2-", "nope-")).is_err());
        let numeric_exp = format!("{{{BASE}}}").replace(r#""2026-01-01T10:30:00Z""#, "1767263400");
        assert!(Claims::from_payload(&numeric_exp).is_err());
    }

    #[test]
    fn a_role_other_than_admin_is_not_admin() {
        let claims = Claims::from_payload(&format!(r#"{{{BASE},"role":"user"}}"#)).unwrap();
        assert!(!claims.is_admin());
        let claims = Claims::from_payload(&format!(r#"{{{BASE},"email_verified":false}}"#)).unwrap();
        assert!(!claims.has_verified_email());
    }

    #[test]
    fn claims_built_in_code_equal_the_parsed_ones() {
        let parsed = Claims::from_payload(&format!("{{{BASE}}}")).unwrap();
        let mut built = Claims::new(
            parsed.subject,
            parsed.session_id,
            parsed.token_id,
            parsed.issued_at,
            parsed.expires_at,
            "otp-auth",
            "otp-auth",
        );
        assert_eq!(built, parsed);
        built.role = Some(ADMIN_ROLE.to_owned());
        assert!(built.is_admin());
    }

    #[test]
    fn claims_serialize_back_to_the_wire_names() {
        let claims = Claims::from_payload(&format!(r#"{{{BASE},"amr":["pwd"]}}"#)).unwrap();
        let value = serde_json::to_value(&claims).unwrap();
        assert_eq!(value["sub"], "0190b7a2-1b6e-7c1e-9a4e-5a1f2b3c4d5e");
        assert_eq!(value["amr"], serde_json::json!(["pwd"]));
        assert!(value.get("email").is_none());
    }
}
