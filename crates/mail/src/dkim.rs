//! DKIM signing (RFC 6376) with mail-auth, RSA-SHA256 or Ed25519-SHA256.

use std::fmt;

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner as Signer, Done};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use crate::error::MailError;

/// The headers signed: those a forger would change, and those that must not be added
/// after signing.
const SIGNED_HEADERS: [&str; 10] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "Content-Language",
    "MIME-Version",
    "Content-Type",
    "Reply-To",
];

enum Key {
    Rsa(Signer<RsaKey<Sha256>, Done>),
    Ed25519(Signer<Ed25519Key, Done>),
}

/// Signs messages for `DKIM_DOMAIN` with the key published under `DKIM_SELECTOR`.
pub struct DkimSigner {
    key: Key,
    domain: String,
    selector: String,
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = match self.key {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        };
        f.debug_struct("DkimSigner")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &algorithm)
            .finish_non_exhaustive()
    }
}

impl DkimSigner {
    /// A signer from `private_key`: a PEM text (PKCS #1 or PKCS #8 RSA, or PKCS #8
    /// Ed25519), or the path of a file holding one.
    ///
    /// # Errors
    /// [`MailError::Dkim`] when the file cannot be read, the key cannot be parsed, or
    /// the selector or domain is empty.
    pub fn new(private_key: &str, selector: &str, domain: &str) -> Result<Self, MailError> {
        let (selector, domain) = (selector.trim(), domain.trim());
        if selector.is_empty() || domain.is_empty() {
            return Err(MailError::Dkim("DKIM_SELECTOR and DKIM_DOMAIN must not be empty".to_owned()));
        }
        let pem = if private_key.trim_start().starts_with("-----BEGIN") {
            private_key.to_owned()
        } else {
            std::fs::read_to_string(private_key.trim()).map_err(|error| {
                MailError::Dkim(format!("DKIM_PRIVATE_KEY file {}: {error}", private_key.trim()))
            })?
        };
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|error| {
            MailError::Dkim(format!("DKIM_PRIVATE_KEY is not a PEM private key: {error}"))
        })?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(pkcs8) if Ed25519Key::from_pkcs8_der(pkcs8.secret_pkcs8_der()).is_ok() => {
                let key = Ed25519Key::from_pkcs8_der(pkcs8.secret_pkcs8_der())
                    .map_err(|error| MailError::Dkim(error.to_string()))?;
                Key::Ed25519(Signer::from_key(key).domain(domain).selector(selector).headers(SIGNED_HEADERS))
            }
            _ => {
                let key = RsaKey::<Sha256>::from_key_der(der.clone_key()).map_err(|error| {
                    MailError::Dkim(format!("DKIM_PRIVATE_KEY is neither an RSA nor an Ed25519 key: {error}"))
                })?;
                Key::Rsa(Signer::from_key(key).domain(domain).selector(selector).headers(SIGNED_HEADERS))
            }
        };
        Ok(Self { key, domain: domain.to_owned(), selector: selector.to_owned() })
    }

    /// `message` with a `DKIM-Signature` header in front.
    ///
    /// # Errors
    /// [`MailError::Compose`] when signing fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, MailError> {
        let signature = match &self.key {
            Key::Rsa(signer) => signer.sign(message),
            Key::Ed25519(signer) => signer.sign(message),
        }
        .map_err(|error| MailError::Compose(format!("DKIM signing: {error}")))?;
        let mut signed = signature.to_header().into_bytes();
        signed.extend_from_slice(message);
        Ok(signed)
    }
}
