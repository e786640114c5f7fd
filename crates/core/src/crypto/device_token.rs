//! Opaque device tokens: a device id and 256 random bits, stored only as a keyed hash.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::keyed_hash::{KeyedHasher, TokenHash};
use super::random_secret::{is_random_secret, random_secret};
use crate::domain::DeviceId;

/// A device token: `<device id as 32 hex digits>.<43 base64url characters>`.
pub struct DeviceToken {
    device_id: DeviceId,
    secret: SecretString,
}

impl DeviceToken {
    /// A new token for a new device.
    pub fn generate() -> Self {
        Self { device_id: DeviceId::generate(), secret: SecretString::from(random_secret()) }
    }

    /// Splits presented text into its parts; `None` when it is not of this shape.
    pub fn parse(text: &str) -> Option<Self> {
        let (id, secret) = text.trim().split_once('.')?;
        let device_id = id.parse::<DeviceId>().ok()?;
        is_random_secret(secret).then(|| Self { device_id, secret: SecretString::from(secret.to_owned()) })
    }

    /// The device the token names.
    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// The keyed hash to store or compare.
    pub fn hash(&self, hasher: &KeyedHasher) -> TokenHash {
        hasher.device_hash(self.secret.expose_secret())
    }

    /// The token text, to hand to the client.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.device_id.as_uuid().simple(), self.secret.expose_secret())
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceToken({}.***)", self.device_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_carry_256_bits() {
        let token = DeviceToken::generate();
        let text = token.expose();
        assert_eq!(text.len(), 32 + 1 + 43);
        let parsed = DeviceToken::parse(&text).unwrap();
        assert_eq!(parsed.device_id(), token.device_id());
        let hasher = KeyedHasher::random();
        assert_eq!(parsed.hash(&hasher), token.hash(&hasher));
        assert!(DeviceToken::parse("nonsense").is_none());
        assert!(!format!("{token:?}").contains(&text[33..]));
    }
}
