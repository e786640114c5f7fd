//! The password a person types, checked for length and never printed.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::error::ValidationError;

/// Fewest characters a password may have (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have; bounds the work of hashing it.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A candidate password of 8 to 128 characters (Unicode scalar values).
///
/// Its `Debug` output is redacted; the text is only reachable through
/// [`Password::expose`], which the password hasher calls.
pub struct Password(SecretString);

impl Password {
    /// Checks the length of `raw` and wraps it.
    ///
    /// # Errors
    /// [`ValidationError`] when `raw` has fewer than [`MIN_PASSWORD_CHARS`] or more
    /// than [`MAX_PASSWORD_CHARS`] characters.
    pub fn new(raw: String) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(ValidationError::new("password", "must be at least 8 characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(ValidationError::new("password", "must be at most 128 characters"));
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// Wraps a presented password without checking its length.
    ///
    /// Used at log-in, where a stored password may predate the current length rules;
    /// the text is still cut at 4 × [`MAX_PASSWORD_CHARS`] bytes' worth of work by the
    /// HTTP body limit.
    pub fn presented(raw: String) -> Self {
        Self(SecretString::from(raw))
    }

    /// The password text, for hashing.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A password hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from storage.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_eight_to_one_hundred_twenty_eight_characters() {
        assert!(Password::new("a".repeat(7)).is_err());
        assert!(Password::new("a".repeat(8)).is_ok());
        assert!(Password::new("a".repeat(128)).is_ok());
        assert!(Password::new("a".repeat(129)).is_err());
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(Password::new("é".repeat(8)).is_ok());
        assert!(Password::new("é".repeat(128)).is_ok());
    }

    #[test]
    fn never_prints_its_text() {
        let password = Password::new("correct horse".to_owned()).unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
        let hash = PasswordHash::from_phc("$argon2id$secret".to_owned());
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
