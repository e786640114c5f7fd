//! Fresh random secrets for opaque tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// 256 fresh random bits as 43 base64url characters (no padding).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `text` has the shape [`random_secret`] gives.
pub fn is_random_secret(text: &str) -> bool {
    URL_SAFE_NO_PAD.decode(text).is_ok_and(|bytes| bytes.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_43_characters_and_differ() {
        let (first, second) = (random_secret(), random_secret());
        assert_eq!(first.len(), 43);
        assert_ne!(first, second);
        assert!(is_random_secret(&first));
        assert!(!is_random_secret("short"));
    }
}
