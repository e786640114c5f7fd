//! One-time codes: generated from a CSPRNG, parsed at the edge, never printed.

use std::fmt;

use rand::RngExt;

use crate::error::ValidationError;

/// Shortest code length the policy accepts.
pub const MIN_CODE_LENGTH: usize = 6;
/// Longest code length the policy accepts.
pub const MAX_CODE_LENGTH: usize = 10;

/// A string of ASCII digits: either a freshly generated code or one a person typed.
///
/// `Debug` is redacted so a code never reaches a log through formatting; the
/// digits are reachable through [`OtpCode::expose`] for hashing and for the mail body.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    /// Draws a code of `length` uniformly random digits from the thread-local CSPRNG.
    pub fn generate(length: usize) -> Self {
        let mut rng = rand::rng();
        let digits = (0..length).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
        Self(digits)
    }

    /// Parses a presented code, which must be exactly `length` ASCII digits
    /// (surrounding white space is ignored).
    ///
    /// # Errors
    /// [`ValidationError`] when the code has another length or a non-digit.
    pub fn parse(raw: &str, length: usize) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.len() != length || !trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ValidationError::new("code", format!("must be exactly {length} digits")));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The digits, for hashing and for the message that delivers them.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_digits_of_the_requested_length() {
        for length in MIN_CODE_LENGTH..=MAX_CODE_LENGTH {
            let code = OtpCode::generate(length);
            assert_eq!(code.expose().len(), length);
            assert!(code.expose().bytes().all(|byte| byte.is_ascii_digit()));
        }
    }

    #[test]
    fn generated_codes_use_every_digit() {
        let mut seen = [false; 10];
        for _ in 0..200 {
            for byte in OtpCode::generate(6).expose().bytes() {
                seen[usize::from(byte - b'0')] = true;
            }
        }
        assert!(seen.iter().all(|digit| *digit));
    }

    #[test]
    fn parses_only_exact_digit_strings() {
        assert_eq!(OtpCode::parse(" 012345 ", 6).unwrap().expose(), "012345");
        for raw in ["12345", "1234567", "12345a", "12 345", "", "１２３４５６"] {
            assert!(OtpCode::parse(raw, 6).is_err(), "accepted {raw:?}");
        }
    }

    #[test]
    fn never_prints_its_digits() {
        assert_eq!(format!("{:?}", OtpCode::parse("123456", 6).unwrap()), "OtpCode(***)");
    }
}
