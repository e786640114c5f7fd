//! Ed25519 keys for PASETO v4.public, in PASERK form, and the keyring that rotates them.

use std::fmt;

use pasetors::keys::{AsymmetricKeyPair, AsymmetricPublicKey, AsymmetricSecretKey, Generate};
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::version4::V4;

/// A key or secret that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The server secret is shorter than [`super::MIN_SECRET_BYTES`].
    #[error("the server secret must be at least 32 bytes")]
    SecretTooShort,
    /// The text is not a `k4.secret.` PASERK.
    #[error("is not a k4.secret PASERK")]
    NotASigningKey,
    /// The secret key's public half cannot be derived.
    #[error("has no valid public half")]
    NoPublicHalf,
    /// The text is not a `k4.public.` PASERK.
    #[error("is not a k4.public PASERK")]
    NotAVerifyingKey,
    /// The operating system's random source failed.
    #[error("could not be generated: the random source failed")]
    RandomSourceFailed,
}

fn paserk(value: &impl FormatAsPaserk) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = value.fmt(&mut out);
    out
}

/// A public key that verifies tokens, with its PASERK id (`k4.pid.…`).
#[derive(Clone)]
pub struct VerifyingKey {
    public: AsymmetricPublicKey<V4>,
    kid: String,
}

impl VerifyingKey {
    /// Parses a `k4.public.…` PASERK.
    ///
    /// # Errors
    /// [`KeyError::NotAVerifyingKey`] when the text is not a v4 public PASERK.
    pub fn from_paserk(text: &str) -> Result<Self, KeyError> {
        let public =
            AsymmetricPublicKey::<V4>::try_from(text.trim()).map_err(|_| KeyError::NotAVerifyingKey)?;
        Ok(Self::from_public(public))
    }

    fn from_public(public: AsymmetricPublicKey<V4>) -> Self {
        let kid = paserk(&Id::from(&public));
        Self { public, kid }
    }

    /// The key id (`k4.pid.…`) carried in token footers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a `k4.public.…` PASERK, safe to publish.
    pub fn to_paserk(&self) -> String {
        paserk(&self.public)
    }

    pub(crate) fn public(&self) -> &AsymmetricPublicKey<V4> {
        &self.public
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.kid)
    }
}

/// The secret key that signs new tokens, with its public half.
#[derive(Clone)]
pub struct SigningKey {
    secret: AsymmetricSecretKey<V4>,
    verifying: VerifyingKey,
}

impl SigningKey {
    /// A fresh random key.
    ///
    /// # Errors
    /// [`KeyError::RandomSourceFailed`] when the operating system's random source fails.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = AsymmetricKeyPair::<V4>::generate().map_err(|_| KeyError::RandomSourceFailed)?;
        Ok(Self { secret: pair.secret, verifying: VerifyingKey::from_public(pair.public) })
    }

    /// Parses a `k4.secret.…` PASERK (as printed by `otp-server keygen`).
    ///
    /// # Errors
    /// [`KeyError::NotASigningKey`] when the text is not a v4 secret PASERK,
    /// [`KeyError::NoPublicHalf`] when its public half cannot be derived.
    pub fn from_paserk(text: &str) -> Result<Self, KeyError> {
        let secret =
            AsymmetricSecretKey::<V4>::try_from(text.trim()).map_err(|_| KeyError::NotASigningKey)?;
        let public = AsymmetricPublicKey::<V4>::try_from(&secret).map_err(|_| KeyError::NoPublicHalf)?;
        Ok(Self { secret, verifying: VerifyingKey::from_public(public) })
    }

    /// The key as a `k4.secret.…` PASERK. Treat it as a password.
    pub fn to_paserk(&self) -> String {
        paserk(&self.secret)
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    pub(crate) fn secret(&self) -> &AsymmetricSecretKey<V4> {
        &self.secret
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.verifying.kid)
    }
}

/// The current signing key plus earlier public keys that still verify.
///
/// After a rotation, list the previous key's public half here until every token it
/// signed has expired (the access-token lifetime).
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SigningKey,
    previous: Vec<VerifyingKey>,
}

impl Keyring {
    /// A keyring that signs with `current` and also accepts `previous`.
    pub fn new(current: SigningKey, previous: Vec<VerifyingKey>) -> Self {
        let previous =
            previous.into_iter().filter(|key| key.kid() != current.verifying_key().kid()).collect();
        Self { current, previous }
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// Every key that verifies, current first.
    pub fn verifying_keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        std::iter::once(self.current.verifying_key()).chain(self.previous.iter())
    }

    /// The verifying key with this id.
    pub fn find(&self, kid: &str) -> Option<&VerifyingKey> {
        self.verifying_keys().find(|key| key.kid() == kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_paserk() {
        let key = SigningKey::generate().unwrap();
        let text = key.to_paserk();
        assert!(text.starts_with("k4.secret."));
        let parsed = SigningKey::from_paserk(&text).unwrap();
        assert_eq!(parsed.verifying_key().kid(), key.verifying_key().kid());
        assert!(key.verifying_key().kid().starts_with("k4.pid."));
        let public = VerifyingKey::from_paserk(&key.verifying_key().to_paserk()).unwrap();
        assert_eq!(public.kid(), key.verifying_key().kid());
    }

    #[test]
    fn refuses_what_is_not_a_paserk() {
        assert!(SigningKey::from_paserk("k4.secret.nope").is_err());
        let public = SigningKey::generate().unwrap().verifying_key().to_paserk();
        assert!(SigningKey::from_paserk(&public).is_err());
        assert!(VerifyingKey::from_paserk("k4.local.AAAA").is_err());
    }

    #[test]
    fn keyring_lists_current_first_and_drops_duplicates() {
        let old = SigningKey::generate().unwrap();
        let new = SigningKey::generate().unwrap();
        let ring = Keyring::new(new.clone(), vec![old.verifying_key().clone(), new.verifying_key().clone()]);
        let kids: Vec<_> = ring.verifying_keys().map(|key| key.kid().to_owned()).collect();
        assert_eq!(kids, [new.verifying_key().kid(), old.verifying_key().kid()]);
        assert!(ring.find(old.verifying_key().kid()).is_some());
        assert!(format!("{new:?}").starts_with("SigningKey(k4.pid."));
    }
}
