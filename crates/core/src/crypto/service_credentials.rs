//! The credentials back-end services present to the introspection endpoint, kept only
//! as SHA-256 digests and compared in constant time.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest credential accepted: 32 characters, so a plain (unsalted) digest is enough.
pub const MIN_CREDENTIAL_CHARS: usize = 32;

/// Longest credential accepted (longer ones are never compared).
pub const MAX_CREDENTIAL_CHARS: usize = 512;

/// A configured credential is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service credential {position}: {reason}")]
pub struct CredentialError {
    /// Which credential of the list (from 1).
    pub position: usize,
    /// What is wrong with it (never the credential itself).
    pub reason: &'static str,
}

/// Which configured credential a request presented: a short pseudonym for rate-limit
/// keys and logs (16 hex digits of its digest), never the credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(String);

impl CredentialId {
    /// The pseudonym.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The accepted service credentials, as digests.
#[derive(Clone, Default)]
pub struct ServiceCredentials {
    digests: Vec<[u8; 32]>,
}

impl fmt::Debug for ServiceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceCredentials({} configured)", self.digests.len())
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl ServiceCredentials {
    /// No credential: every presented one is refused.
    pub fn none() -> Self {
        Self::default()
    }

    /// The credentials of a comma-separated list (blank entries are skipped).
    ///
    /// # Errors
    /// [`CredentialError`] for a credential shorter than [`MIN_CREDENTIAL_CHARS`],
    /// longer than [`MAX_CREDENTIAL_CHARS`], or with other characters than printable
    /// ASCII without spaces, or one given twice.
    pub fn parse(list: &str) -> Result<Self, CredentialError> {
        let mut digests: Vec<[u8; 32]> = Vec::new();
        let entries = list.split(',').map(str::trim).filter(|entry| !entry.is_empty());
        for (index, entry) in entries.enumerate() {
            let fail = |reason| CredentialError { position: index + 1, reason };
            if !entry.bytes().all(|byte| byte.is_ascii_graphic()) {
                return Err(fail("must be printable ASCII without spaces"));
            }
            if entry.len() < MIN_CREDENTIAL_CHARS {
                return Err(fail("must be at least 32 characters (`openssl rand -base64 32` makes one)"));
            }
            if entry.len() > MAX_CREDENTIAL_CHARS {
                return Err(fail("must be at most 512 characters"));
            }
            let entry = digest(entry);
            if digests.contains(&entry) {
                return Err(fail("is listed twice"));
            }
            digests.push(entry);
        }
        Ok(Self { digests })
    }

    /// How many credentials are accepted.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Which credential `presented` is, if any. Every configured digest is compared,
    /// each in constant time.
    pub fn identify(&self, presented: &str) -> Option<CredentialId> {
        if presented.len() > MAX_CREDENTIAL_CHARS {
            return None;
        }
        let presented = digest(presented);
        let mut found = None;
        for stored in &self.digests {
            if bool::from(stored.ct_eq(&presented)) {
                found = Some(CredentialId(hex::encode(&stored[..8])));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "svc-billing-0123456789abcdefghijklmnop";
    const SECOND: &str = "svc-reports-0123456789abcdefghijklmnop";

    #[test]
    fn configured_credentials_are_recognised_and_others_refused() {
        let credentials = ServiceCredentials::parse(&format!(" {FIRST} ,, {SECOND} ")).unwrap();
        assert_eq!(credentials.len(), 2);
        let first = credentials.identify(FIRST).unwrap();
        let second = credentials.identify(SECOND).unwrap();
        assert_ne!(first, second);
        assert_eq!(first.as_str().len(), 16);
        assert!(credentials.identify(&FIRST[1..]).is_none());
        assert!(credentials.identify("").is_none());
        assert!(ServiceCredentials::none().identify(FIRST).is_none());
        assert!(ServiceCredentials::parse("").unwrap().is_empty());
    }

    #[test]
    fn weak_odd_or_repeated_credentials_are_refused_without_showing_them() {
        let short = ServiceCredentials::parse(&format!("{FIRST},short")).unwrap_err();
        assert_eq!(short.position, 2);
        assert!(!short.to_string().contains("short,"));
        assert!(ServiceCredentials::parse(&format!("{FIRST} with space")).is_err());
        assert!(ServiceCredentials::parse(&"x".repeat(MAX_CREDENTIAL_CHARS + 1)).is_err());
        assert_eq!(
            ServiceCredentials::parse(&format!("{FIRST},{FIRST}")).unwrap_err().reason,
            "is listed twice"
        );
    }

    #[test]
    fn the_debug_form_shows_no_digest() {
        let credentials = ServiceCredentials::parse(FIRST).unwrap();
        assert_eq!(format!("{credentials:?}"), "ServiceCredentials(1 configured)");
    }
}
