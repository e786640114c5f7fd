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

/// A password hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`), or a bcrypt
/// hash imported from another service (`$2b$12$...`; see [`HashScheme`]).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

/// The schemes a stored password hash may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashScheme {
    /// Argon2id PHC strings: what this service writes.
    Argon2id,
    /// bcrypt (`$2a$`, `$2b$`, `$2y$`, as passlib and Python's `bcrypt` write them):
    /// accepted from imports, verified at log-in and then replaced by Argon2id.
    Bcrypt,
}

/// A hash in a scheme this service does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an Argon2id or bcrypt ($2a$, $2b$, $2y$) password hash")]
pub struct UnsupportedHash;

impl PasswordHash {
    /// Wraps a PHC string read from storage.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// Checks a hash from another service and wraps it as it is.
    ///
    /// # Errors
    /// [`UnsupportedHash`] unless it is an Argon2id PHC string or a well-formed bcrypt
    /// hash (60 characters, cost 4 to 31).
    pub fn imported(text: &str) -> Result<Self, UnsupportedHash> {
        let hash = Self(text.trim().to_owned());
        hash.scheme().map(|_| hash).ok_or(UnsupportedHash)
    }

    /// The scheme of this hash, or `None` for a string in no accepted scheme.
    pub fn scheme(&self) -> Option<HashScheme> {
        let text = self.0.as_str();
        if text.starts_with("$argon2id$") {
            return Some(HashScheme::Argon2id);
        }
        let bcrypt = text.len() == 60
            && ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| text.starts_with(prefix))
            && text[4..6].parse::<u32>().is_ok_and(|cost| (4..=31).contains(&cost))
            && &text[6..7] == "$"
            && text[7..].bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'/');
        bcrypt.then_some(HashScheme::Bcrypt)
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
    fn imported_hashes_are_argon2id_or_bcrypt() {
        let bcrypt = "$2b$12$z5n/YaW5LZNL9sxPrN6JROIqtzJayzkfwY9uifbYy4S1lU25XQUqa";
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let hash = PasswordHash::imported(&bcrypt.replacen("$2b$", prefix, 1)).unwrap();
            assert_eq!(hash.scheme(), Some(HashScheme::Bcrypt));
        }
        let argon = PasswordHash::imported("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap();
        assert_eq!(argon.scheme(), Some(HashScheme::Argon2id));
        for refused in [
            "$pbkdf2-sha256$29000$N2bMmZMy$Y5q",
            "$2x$12$z5n/YaW5LZNL9sxPrN6JROIqtzJayzkfwY9uifbYy4S1lU25XQUqa",
            "$2b$12$short",
            "$2b$99$z5n/YaW5LZNL9sxPrN6JROIqtzJayzkfwY9uifbYy4S1lU25XQUqa",
            "plain text password",
        ] {
            assert_eq!(PasswordHash::imported(refused), Err(UnsupportedHash), "{refused}");
        }
    }

    #[test]
    fn never_prints_its_text() {
        let password = Password::new("correct horse".to_owned()).unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
        let hash = PasswordHash::from_phc("$argon2id$secret".to_owned());
        assert!(!format!("{hash:?}").contains("secret"));
    }
}
