//! The random values of a provider sign-in (`state`, PKCE verifier, nonce) and the
//! shape checks of what comes back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::ValidationError;

/// Longest authorization code accepted at the callback.
pub const MAX_AUTHORIZATION_CODE_CHARS: usize = 2048;

/// Random bytes in each `state`, PKCE verifier and nonce (base64url: 43 characters).
const RANDOM_BYTES: usize = 32;

/// 256 fresh random bits, base64url without padding.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of `verifier` (RFC 7636, section 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `state` has the shape of a state this service issues; anything else is
/// refused without a storage lookup.
pub(super) fn is_well_formed_state(state: &str) -> bool {
    state.len() <= 64 && URL_SAFE_NO_PAD.decode(state).is_ok_and(|bytes| bytes.len() == RANDOM_BYTES)
}

pub(super) fn check_authorization_code(code: &str) -> Result<(), ValidationError> {
    if code.is_empty() {
        return Err(ValidationError::new("code", "must not be empty"));
    }
    if code.len() > MAX_AUTHORIZATION_CODE_CHARS {
        return Err(ValidationError::new("code", "must be at most 2048 characters"));
    }
    if !code.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ValidationError::new("code", "must be printable ASCII"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(pkce_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn random_tokens_are_43_url_safe_characters_and_differ() {
        let (first, second) = (random_token(), random_token());
        assert_eq!(first.len(), 43);
        assert!(first.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'));
        assert_ne!(first, second);
        assert!(is_well_formed_state(&first));
    }

    #[test]
    fn states_of_another_shape_are_refused_before_any_lookup() {
        for state in
            ["", "abc", &"A".repeat(44), &"A".repeat(1000), "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!"]
        {
            assert!(!is_well_formed_state(state), "{state:?}");
        }
    }

    #[test]
    fn codes_must_be_short_printable_ascii() {
        assert!(check_authorization_code("4/0AX4XfWh-abc_def").is_ok());
        assert_eq!(check_authorization_code("").unwrap_err().field, "code");
        assert!(check_authorization_code("a b").is_err());
        assert!(check_authorization_code("é").is_err());
        assert!(check_authorization_code(&"a".repeat(MAX_AUTHORIZATION_CODE_CHARS + 1)).is_err());
    }
}
