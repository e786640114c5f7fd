//! HMAC-SHA256 with the server secret: hashes of codes, refresh tokens and addresses.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::keys::KeyError;
use crate::domain::{CodePurpose, EmailAddress, OtpCode, UserId};

/// Fewest bytes a server secret may have.
pub const MIN_SECRET_BYTES: usize = 32;

macro_rules! digest_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps 32 bytes read from storage.
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Parses 64 lowercase or uppercase hex digits.
            pub fn from_hex(hex_digits: &str) -> Option<Self> {
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(hex_digits, &mut bytes).ok()?;
                Some(Self(bytes))
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lowercase hex, for storage.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Equality that takes the same time wherever the first difference is.
            pub fn ct_eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({}..)"), &self.to_hex()[..8])
            }
        }
    };
}

digest_type!(
    /// Keyed hash of a one-time code, bound to its purpose and address.
    CodeHash
);
digest_type!(
    /// Keyed hash of a refresh token's secret part.
    TokenHash
);
digest_type!(
    /// Keyed hash of an OAuth `state`: the key of a pending provider sign-in.
    StateHash
);

/// The server secret and the keyed hashes made with it.
///
/// Each hash is domain-separated by a label, so a value hashed for one use can never
/// match a value hashed for another.
#[derive(Clone)]
pub struct KeyedHasher {
    key: SecretSlice<u8>,
}

impl KeyedHasher {
    /// Uses `secret` as the HMAC key.
    ///
    /// # Errors
    /// [`KeyError::SecretTooShort`] when `secret` is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort);
        }
        Ok(Self { key: SecretSlice::from(secret.to_vec()) })
    }

    /// A hasher with a fresh random key (for development and tests).
    pub fn random() -> Self {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        Self { key: SecretSlice::from(secret.to_vec()) }
    }

    /// A new random server secret: 32 bytes as 64 hex digits.
    pub fn generate_secret() -> String {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        hex::encode(secret)
    }

    fn mac(&self, label: &str, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(label.as_bytes());
        for part in parts {
            mac.update(&[0]);
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// A 32-byte key for another primitive, derived from the server secret and bound
    /// to `label`, so no two uses share key material.
    pub(crate) fn derive_key(&self, label: &str) -> [u8; 32] {
        self.mac("derived-key", &[label.as_bytes()])
    }

    /// Hash of `code` issued for `purpose` to `email`.
    pub fn code_hash(&self, purpose: CodePurpose, email: &EmailAddress, code: &OtpCode) -> CodeHash {
        CodeHash(self.mac(
            "otp-code",
            &[purpose.as_str().as_bytes(), email.as_str().as_bytes(), code.expose().as_bytes()],
        ))
    }

    /// Hash of the secret of an address change's undo link, bound to the account and
    /// the address it moves back to.
    pub fn undo_hash(&self, user_id: UserId, old_email: &EmailAddress, secret: &str) -> CodeHash {
        CodeHash(self.mac(
            "email-change-undo",
            &[user_id.as_uuid().as_bytes(), old_email.as_str().as_bytes(), secret.as_bytes()],
        ))
    }

    /// Hash of a refresh token's secret part.
    pub fn token_hash(&self, secret: &str) -> TokenHash {
        TokenHash(self.mac("refresh-token", &[secret.as_bytes()]))
    }

    /// Hash of a registration token, the secret that tells the client who registered an
    /// address from anyone else completing its verification.
    pub fn registration_hash(&self, token: &str) -> TokenHash {
        TokenHash(self.mac("registration-token", &[token.as_bytes()]))
    }

    /// Hash of a device token's secret part.
    pub fn device_hash(&self, secret: &str) -> TokenHash {
        TokenHash(self.mac("device-token", &[secret.as_bytes()]))
    }

    /// A pseudonym of a client (its network and user agent) for recognising the same
    /// client again without storing either in clear (hex, 32 characters).
    pub fn client_fingerprint(&self, network: &str, user_agent: Option<&str>) -> String {
        let agent = user_agent.unwrap_or_default();
        hex::encode(&self.mac("client-fingerprint", &[network.as_bytes(), agent.as_bytes()])[..16])
    }

    /// Hash of an OAuth `state` value, the key its pending sign-in is stored under.
    pub fn state_hash(&self, state: &str) -> StateHash {
        StateHash(self.mac("oauth-state", &[state.as_bytes()]))
    }

    /// Hash of the client-binding secret of a provider sign-in (kept with its pending
    /// record; compared in constant time with [`TokenHash::ct_eq`]).
    pub fn binding_hash(&self, binding: &str) -> TokenHash {
        TokenHash(self.mac("oauth-client-binding", &[binding.as_bytes()]))
    }

    /// A stable pseudonym of an address for storage keys (hex, 32 characters), so
    /// caches and rate limiters never hold addresses in clear.
    pub fn email_digest(&self, email: &EmailAddress) -> String {
        hex::encode(&self.mac("email", &[email.as_str().as_bytes()])[..16])
    }

    /// A stable pseudonym of a client network (an address or an IPv6 /64) for rate-limit
    /// keys, so shared stores never hold client addresses in clear (hex, 32 characters).
    pub fn client_digest(&self, network: &str) -> String {
        hex::encode(&self.mac("client", &[network.as_bytes()])[..16])
    }
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHasher(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    #[test]
    fn refuses_short_secrets() {
        assert!(KeyedHasher::new(&[7; 31]).is_err());
        assert!(KeyedHasher::new(&[7; 32]).is_ok());
    }

    #[test]
    fn code_hashes_bind_purpose_address_and_key() {
        let hasher = KeyedHasher::new(&[1; 32]).unwrap();
        let code = OtpCode::parse("123456", 6).unwrap();
        let base = hasher.code_hash(CodePurpose::SignIn, &email("a@example.com"), &code);
        assert!(base.ct_eq(&hasher.code_hash(CodePurpose::SignIn, &email("A@example.com"), &code)));
        assert_ne!(base, hasher.code_hash(CodePurpose::PasswordReset, &email("a@example.com"), &code));
        assert_ne!(base, hasher.code_hash(CodePurpose::SignIn, &email("b@example.com"), &code));
        let other_key = KeyedHasher::new(&[2; 32]).unwrap();
        assert_ne!(base, other_key.code_hash(CodePurpose::SignIn, &email("a@example.com"), &code));
    }

    #[test]
    fn hashes_round_trip_through_hex_and_hide_in_debug() {
        let hash = KeyedHasher::random().token_hash("secret");
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        assert!(TokenHash::from_hex("zz").is_none());
        assert_eq!(format!("{hash:?}").len(), "TokenHash(12345678..)".len());
    }

    #[test]
    fn state_hashes_depend_on_the_key_and_differ_from_token_hashes() {
        let hasher = KeyedHasher::new(&[4; 32]).unwrap();
        let state = hasher.state_hash("abc");
        assert!(state.ct_eq(&hasher.state_hash("abc")));
        assert_ne!(state, hasher.state_hash("abd"));
        assert_ne!(state.as_bytes(), hasher.token_hash("abc").as_bytes());
        assert_ne!(state, KeyedHasher::new(&[5; 32]).unwrap().state_hash("abc"));
    }

    #[test]
    fn email_digests_are_stable_and_short() {
        let hasher = KeyedHasher::new(&[3; 32]).unwrap();
        let digest = hasher.email_digest(&email("ann@example.com"));
        assert_eq!(digest.len(), 32);
        assert_eq!(digest, hasher.email_digest(&email("ANN@example.com")));
        assert!(!digest.contains("ann"));
        let client = hasher.client_digest("203.0.113.5");
        assert_eq!(client.len(), 32);
        assert_ne!(client, hasher.client_digest("203.0.113.6"));
    }

    #[test]
    fn client_fingerprints_tell_agents_and_networks_apart() {
        let hasher = KeyedHasher::new(&[3; 32]).unwrap();
        let base = hasher.client_fingerprint("203.0.113.5", Some("Firefox"));
        assert_eq!(base, hasher.client_fingerprint("203.0.113.5", Some("Firefox")));
        assert_ne!(base, hasher.client_fingerprint("203.0.113.5", Some("Chrome")));
        assert_ne!(base, hasher.client_fingerprint("203.0.113.6", Some("Firefox")));
        assert_ne!(hasher.registration_hash("x"), hasher.device_hash("x"));
        assert_ne!(hasher.registration_hash("x").as_bytes(), hasher.token_hash("x").as_bytes());
    }
}
