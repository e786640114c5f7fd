//! Signatures of webhook requests in the Standard Webhooks scheme
//! (<https://www.standardwebhooks.com>): `v1,` and the base64 HMAC-SHA256, under the
//! secret's key bytes, of `{webhook-id}.{webhook-timestamp}.{body}`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Shortest signing key accepted, in bytes (the scheme allows 24 to 64).
pub const MIN_WEBHOOK_KEY_BYTES: usize = 24;
/// Longest signing key accepted, in bytes.
pub const MAX_WEBHOOK_KEY_BYTES: usize = 64;

/// Why a webhook secret was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookSecretError {
    /// The value does not start with `whsec_`.
    #[error("a webhook secret is `whsec_` followed by base64")]
    MissingPrefix,
    /// What follows `whsec_` is not standard base64.
    #[error("the part after `whsec_` is not base64")]
    NotBase64,
    /// The key is shorter or longer than the scheme allows.
    #[error("the webhook key must be {MIN_WEBHOOK_KEY_BYTES} to {MAX_WEBHOOK_KEY_BYTES} bytes, not {0}")]
    Length(usize),
}

/// Signs webhook requests; holds the key, which never prints.
#[derive(Clone)]
pub struct WebhookSigner {
    key: SecretSlice<u8>,
}

impl fmt::Debug for WebhookSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSigner(..)")
    }
}

impl WebhookSigner {
    /// The signer of the secret `whsec_<base64 key>`.
    ///
    /// # Errors
    /// [`WebhookSecretError`] when the prefix is missing, the rest is not base64, or the
    /// key is not 24 to 64 bytes.
    pub fn from_secret(secret: &str) -> Result<Self, WebhookSecretError> {
        let encoded = secret.trim().strip_prefix("whsec_").ok_or(WebhookSecretError::MissingPrefix)?;
        let key = STANDARD.decode(encoded).map_err(|_| WebhookSecretError::NotBase64)?;
        if !(MIN_WEBHOOK_KEY_BYTES..=MAX_WEBHOOK_KEY_BYTES).contains(&key.len()) {
            return Err(WebhookSecretError::Length(key.len()));
        }
        Ok(Self { key: key.into() })
    }

    /// A fresh random secret in the `whsec_` form (32 bytes), for `otp-server keygen`
    /// or tests.
    pub fn generate_secret() -> String {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        format!("whsec_{}", STANDARD.encode(key))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// The `webhook-signature` header value for a request with the `webhook-id` `id`,
    /// the `webhook-timestamp` `timestamp` (Unix seconds) and `body`: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    /// Whether `header` (space-separated `v1,<base64>` signatures, as receivers get it)
    /// holds a valid signature of the request, compared in constant time. The
    /// timestamp's freshness is the receiver's to check.
    pub fn verify(&self, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
        let expected = self.mac(id, timestamp, body);
        header.split(' ').filter_map(|signature| signature.strip_prefix("v1,")).any(|encoded| {
            STANDARD.decode(encoded).is_ok_and(|given| bool::from(given.as_slice().ct_eq(&expected)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the Standard Webhooks reference libraries (the same secret,
    /// id, timestamp, body and signature appear in their test suites).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_reference_test_vector_signs_exactly() {
        let signer = WebhookSigner::from_secret(SECRET).unwrap();
        assert_eq!(signer.sign(ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn verification_accepts_the_vector_among_others_and_refuses_any_change() {
        let signer = WebhookSigner::from_secret(SECRET).unwrap();
        assert!(signer.verify(SIGNATURE, ID, TIMESTAMP, BODY));
        assert!(signer.verify(&format!("v1,bm9wZQ== {SIGNATURE}"), ID, TIMESTAMP, BODY));
        assert!(!signer.verify(SIGNATURE, ID, TIMESTAMP + 1, BODY));
        assert!(!signer.verify(SIGNATURE, "msg_other", TIMESTAMP, BODY));
        assert!(!signer.verify(SIGNATURE, ID, TIMESTAMP, br#"{"test": 2432232315}"#));
        assert!(!signer.verify(&SIGNATURE.replace("v1,", "v2,"), ID, TIMESTAMP, BODY));
        let other = WebhookSigner::from_secret(&WebhookSigner::generate_secret()).unwrap();
        assert!(!other.verify(SIGNATURE, ID, TIMESTAMP, BODY));
    }

    #[test]
    fn secrets_need_the_prefix_base64_and_a_sane_length() {
        assert_eq!(
            WebhookSigner::from_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_err(),
            WebhookSecretError::MissingPrefix
        );
        assert_eq!(
            WebhookSigner::from_secret("whsec_not base64!").unwrap_err(),
            WebhookSecretError::NotBase64
        );
        assert_eq!(WebhookSigner::from_secret("whsec_c2hvcnQ=").unwrap_err(), WebhookSecretError::Length(5));
        assert!(format!("{:?}", WebhookSigner::from_secret(SECRET).unwrap()).contains(".."));
    }
}
