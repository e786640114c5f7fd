//! The validated, normalised email address.

use std::fmt;

use email_address::{EmailAddress as Rfc5322Address, Options};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// Longest address accepted (RFC 5321 path limit minus the angle brackets).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// An email address that has been trimmed, lower-cased and validated.
///
/// Two addresses that differ only in case or surrounding white space are the same
/// account. Display names (`"Ann" <ann@example.com>`), domain literals and domains
/// without a top-level domain are refused.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Normalises and validates `raw`.
    ///
    /// # Errors
    /// [`ValidationError`] when the address is empty, longer than
    /// [`MAX_EMAIL_LENGTH`], or not a plain `local@domain.tld` address.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let normalised = raw.trim().to_lowercase();
        if normalised.is_empty() {
            return Err(ValidationError::new("email", "must not be empty"));
        }
        if normalised.len() > MAX_EMAIL_LENGTH {
            return Err(ValidationError::new("email", "must be at most 254 characters"));
        }
        let options = Options::default().with_required_tld().without_domain_literal().without_display_text();
        Rfc5322Address::parse_with_options(&normalised, options)
            .map_err(|_| ValidationError::new("email", "is not a valid email address"))?;
        if normalised.chars().any(char::is_whitespace) {
            return Err(ValidationError::new("email", "is not a valid email address"));
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// The address with most of it hidden, to show it to someone who may not own it:
    /// the first character of the local part and of the domain's first label, and the
    /// rest of the domain from its last dot (`bob@news.example.org` gives
    /// `b***@n***.org`).
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let first = |text: &str| text.chars().next().map(String::from).unwrap_or_default();
        let suffix = domain.rfind('.').map_or("", |dot| &domain[dot..]);
        format!("{}***@{}***{suffix}", first(local), first(domain))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_white_space() {
        let email = EmailAddress::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ann.lee@example.com");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn refuses_what_is_not_a_plain_address() {
        for raw in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "ann@[127.0.0.1]",
            "Ann <ann@example.com>",
            "ann lee@example.com",
            "ann@exa mple.com",
        ] {
            assert!(EmailAddress::parse(raw).is_err(), "accepted {raw:?}");
        }
    }

    #[test]
    fn masking_keeps_only_first_letters_and_the_top_level_domain() {
        let email = EmailAddress::parse("bob.lee@news.example.org").unwrap();
        assert_eq!(email.masked(), "b***@n***.org");
        assert!(!email.masked().contains("lee") && !email.masked().contains("example"));
    }

    #[test]
    fn refuses_overlong_addresses() {
        let raw = format!("{}@example.com", "a".repeat(250));
        let error = EmailAddress::parse(&raw).unwrap_err();
        assert!(error.to_string().contains("254"));
    }

    #[test]
    fn deserialises_through_validation() {
        let email: EmailAddress = serde_json::from_str("\"Bob@Example.org\"").unwrap();
        assert_eq!(email.as_str(), "bob@example.org");
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
    }
}
