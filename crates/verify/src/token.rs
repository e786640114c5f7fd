//! Reading a token, checking its signature, then its claims at a given time.

use std::time::Duration;

use pasetors::Public;
use pasetors::token::UntrustedToken;
use pasetors::version4::{PublicToken, V4};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::claims::Claims;
use crate::error::VerifyError;
use crate::keys::PublicKey;

/// Longest token text accepted before any parsing (the server's limit too).
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Longest key id accepted from a footer; real ones are 50 characters.
const MAX_KID_BYTES: usize = 100;

/// A token that parsed, with the key id its (not yet authenticated) footer names.
pub(crate) struct UnverifiedToken {
    token: UntrustedToken<Public, V4>,
    kid: String,
}

#[derive(Deserialize)]
struct Footer {
    kid: String,
}

impl UnverifiedToken {
    /// Parses the token's structure and footer; checks nothing cryptographic yet.
    pub(crate) fn parse(text: &str) -> Result<Self, VerifyError> {
        if text.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::Malformed);
        }
        let token = UntrustedToken::<Public, V4>::try_from(text).map_err(|_| VerifyError::Malformed)?;
        let footer: Footer =
            serde_json::from_slice(token.untrusted_footer()).map_err(|_| VerifyError::Malformed)?;
        if !footer.kid.starts_with("k4.pid.") || footer.kid.len() > MAX_KID_BYTES {
            return Err(VerifyError::Malformed);
        }
        Ok(Self { token, kid: footer.kid })
    }

    /// The key id the footer names (authenticated only once the signature verifies).
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// Checks the signature with `key` and reads the claims.
    pub(crate) fn verify(&self, key: &PublicKey) -> Result<Claims, VerifyError> {
        let trusted =
            PublicToken::verify(key.key(), &self.token, None, None).map_err(|_| VerifyError::BadSignature)?;
        Claims::from_payload(trusted.payload()).map_err(|_| VerifyError::InvalidClaims)
    }
}

/// What a token's claims must say to be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expectations {
    pub(crate) issuer: String,
    pub(crate) audience: String,
}

/// Checks issuer, audience and lifetime at `now`, allowing `leeway` for clock skew.
pub(crate) fn check_claims(
    claims: &Claims,
    expected: &Expectations,
    leeway: Duration,
    now: OffsetDateTime,
) -> Result<(), VerifyError> {
    if claims.issuer != expected.issuer {
        return Err(VerifyError::WrongIssuer);
    }
    if claims.audience != expected.audience {
        return Err(VerifyError::WrongAudience);
    }
    if claims.expires_at <= claims.issued_at {
        return Err(VerifyError::InvalidClaims);
    }
    if claims.expires_at + leeway <= now {
        return Err(VerifyError::Expired);
    }
    if claims.issued_at - leeway > now {
        return Err(VerifyError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use pasetors::keys::AsymmetricKeyPair;
    use serde_json::json;
    use time::format_description::well_known::Rfc3339;
    use uuid::Uuid;

    use super::*;
    use crate::keys::tests::generated;

    /// Signs `claims` with `pair`, naming `kid` in the footer.
    pub(crate) fn sign(pair: &AsymmetricKeyPair<V4>, kid: &str, claims: &serde_json::Value) -> String {
        let footer = json!({ "kid": kid }).to_string();
        PublicToken::sign(&pair.secret, claims.to_string().as_bytes(), Some(footer.as_bytes()), None).unwrap()
    }

    pub(crate) fn claims_at(issued: OffsetDateTime, lifetime: time::Duration) -> serde_json::Value {
        json!({
            "sub": Uuid::new_v4(), "sid": Uuid::new_v4(), "jti": Uuid::new_v4(),
            "iat": issued.format(&Rfc3339).unwrap(), "exp": (issued + lifetime).format(&Rfc3339).unwrap(),
            "iss": "otp-auth", "aud": "otp-auth",
        })
    }

    fn expected() -> Expectations {
        Expectations { issuer: "otp-auth".into(), audience: "otp-auth".into() }
    }

    const LEEWAY: Duration = Duration::from_secs(30);

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
    }

    fn parsed(value: serde_json::Value) -> Claims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_signed_token_reads_back_with_the_key_its_footer_names() {
        let (pair, text) = generated();
        let key = PublicKey::from_paserk(&text).unwrap();
        let claims = claims_at(now(), time::Duration::minutes(30));
        let token = UnverifiedToken::parse(&sign(&pair, key.kid(), &claims)).unwrap();
        assert_eq!(token.kid(), key.kid());
        assert_eq!(token.verify(&key).unwrap(), parsed(claims));
    }

    #[test]
    fn another_key_or_a_changed_byte_fails_the_signature() {
        let (pair, text) = generated();
        let key = PublicKey::from_paserk(&text).unwrap();
        let (_, other) = generated();
        let signed = sign(&pair, key.kid(), &claims_at(now(), time::Duration::minutes(30)));
        let token = UnverifiedToken::parse(&signed).unwrap();
        let other = PublicKey::from_paserk(&other).unwrap();
        assert!(matches!(token.verify(&other), Err(VerifyError::BadSignature)));
        let mut bytes = signed.into_bytes();
        bytes[30] = if bytes[30] == b'A' { b'B' } else { b'A' };
        let tampered = UnverifiedToken::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        assert!(matches!(tampered.verify(&key), Err(VerifyError::BadSignature)));
    }

    #[test]
    fn what_is_not_a_v4_public_token_with_a_kid_is_malformed() {
        let (pair, text) = generated();
        let kid = PublicKey::from_paserk(&text).unwrap().kid().to_owned();
        let claims = claims_at(now(), time::Duration::minutes(30));
        let no_footer = PublicToken::sign(&pair.secret, claims.to_string().as_bytes(), None, None).unwrap();
        let odd_kid = sign(&pair, "someone-elses-key", &claims);
        let long_kid = sign(&pair, &format!("k4.pid.{}", "A".repeat(200)), &claims);
        let too_long = format!("v4.public.{}", "A".repeat(MAX_TOKEN_BYTES));
        for token in [&no_footer, &odd_kid, &long_kid, &too_long, "v4.local.AAAA", "garbage", ""] {
            assert!(matches!(UnverifiedToken::parse(token), Err(VerifyError::Malformed)), "{token:.40}");
        }
        assert!(UnverifiedToken::parse(&sign(&pair, &kid, &claims)).is_ok());
    }

    #[test]
    fn signed_claims_that_are_not_ours_are_invalid() {
        let (pair, text) = generated();
        let key = PublicKey::from_paserk(&text).unwrap();
        let token = UnverifiedToken::parse(&sign(&pair, key.kid(), &json!({"sub": "ada"}))).unwrap();
        assert!(matches!(token.verify(&key), Err(VerifyError::InvalidClaims)));
    }

    #[test]
    fn issuer_and_audience_must_match() {
        let at = now();
        let claims = parsed(claims_at(at, time::Duration::minutes(30)));
        assert!(check_claims(&claims, &expected(), LEEWAY, at).is_ok());
        let other_issuer = Expectations { issuer: "someone".into(), ..expected() };
        assert!(matches!(check_claims(&claims, &other_issuer, LEEWAY, at), Err(VerifyError::WrongIssuer)));
        let other_audience = Expectations { audience: "billing".into(), ..expected() };
        let error = check_claims(&claims, &other_audience, LEEWAY, at).unwrap_err();
        assert!(matches!(error, VerifyError::WrongAudience));
    }

    #[test]
    fn expiry_and_issue_time_allow_exactly_the_leeway() {
        let issued = now();
        let claims = parsed(claims_at(issued, time::Duration::minutes(30)));
        let expiry = claims.expires_at;
        let leeway = time::Duration::seconds(30);
        assert!(
            check_claims(&claims, &expected(), LEEWAY, expiry + leeway - time::Duration::seconds(1)).is_ok()
        );
        let error = check_claims(&claims, &expected(), LEEWAY, expiry + leeway).unwrap_err();
        assert!(matches!(error, VerifyError::Expired));
        assert!(matches!(
            check_claims(&claims, &expected(), Duration::ZERO, expiry),
            Err(VerifyError::Expired)
        ));
        assert!(check_claims(&claims, &expected(), LEEWAY, issued - leeway).is_ok());
        let early = issued - leeway - time::Duration::seconds(1);
        assert!(matches!(check_claims(&claims, &expected(), LEEWAY, early), Err(VerifyError::NotYetValid)));
    }

    #[test]
    fn a_token_that_expires_before_it_is_issued_is_invalid() {
        let at = now();
        let claims = parsed(claims_at(at, time::Duration::seconds(-5)));
        assert!(matches!(check_claims(&claims, &expected(), LEEWAY, at), Err(VerifyError::InvalidClaims)));
    }
}
