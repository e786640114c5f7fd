//! Verification of an OpenID Connect ID token: signature against the provider's keys
//! (RS256 only), issuer, audience, expiry and nonce.

use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJwsSigningAlgorithm};
use openidconnect::{ClaimsVerificationError, ClientId, IssuerUrl, Nonce, SignatureVerificationError};
use otp_core::ports::OAuthError;

use crate::jwks::KeySet;

/// What an ID token must satisfy beyond its signature.
#[derive(Debug, Clone)]
pub(crate) struct IdTokenRules {
    /// The `aud` the token must be issued to (this client).
    pub client_id: String,
    /// The `iss` values accepted (compared exactly).
    pub issuers: Vec<String>,
    /// The issuer passed to `openidconnect` (its own issuer check is off: ours accepts
    /// several spellings).
    pub issuer_url: IssuerUrl,
}

/// Why a token was refused, keeping apart the one case a key refresh can cure.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The token names a key the set lacks.
    UnknownKey,
    /// Anything else, already in the port's terms.
    Final(OAuthError),
}

/// Parses the token's compact form.
pub(crate) fn parse(raw: &str) -> Result<CoreIdToken, OAuthError> {
    raw.parse::<CoreIdToken>()
        .map_err(|_| OAuthError::InvalidIdToken("it is not a well-formed signed JWT".into()))
}

/// Checks `token` against `keys`, `rules` and the `nonce` of this sign-in.
pub(crate) fn verify(
    token: &CoreIdToken,
    keys: &KeySet,
    rules: &IdTokenRules,
    nonce: &str,
) -> Result<CoreIdTokenClaims, Refusal> {
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(rules.client_id.clone()),
        rules.issuer_url.clone(),
        keys.keys.clone(),
    )
    .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
    .require_issuer_match(false);
    let claims = token.claims(&verifier, &Nonce::new(nonce.to_owned())).map_err(classify)?;
    if !rules.issuers.iter().any(|issuer| issuer.as_str() == claims.issuer().as_str()) {
        return Err(Refusal::Final(OAuthError::InvalidIdToken(format!(
            "it was issued by {}, not by the configured issuer",
            claims.issuer().as_str()
        ))));
    }
    Ok(claims.clone())
}

fn classify(error: ClaimsVerificationError) -> Refusal {
    let invalid = |reason: String| Refusal::Final(OAuthError::InvalidIdToken(reason));
    match error {
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
            Refusal::UnknownKey
        }
        ClaimsVerificationError::SignatureVerification(inner) => {
            invalid(format!("its signature does not verify ({inner})"))
        }
        ClaimsVerificationError::InvalidAudience(_) => Refusal::Final(OAuthError::IdTokenAudience),
        ClaimsVerificationError::InvalidNonce(_) => Refusal::Final(OAuthError::IdTokenNonce),
        ClaimsVerificationError::Expired(_) => invalid("it has expired".into()),
        other => invalid(other.to_string()),
    }
}

/// The final word on a token whose key is still unknown after a refresh.
pub(crate) fn unknown_key() -> OAuthError {
    OAuthError::InvalidIdToken("it is signed with a key the provider does not publish".into())
}
