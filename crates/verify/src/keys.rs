//! Verify-only Ed25519 keys in PASERK form, and fixed sets of them.

use std::fmt;

use pasetors::keys::AsymmetricPublicKey;
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::version4::V4;

use crate::error::ConfigError;

/// Longest PASERK or key id considered; real ones are about 50 characters.
const MAX_KEY_TEXT: usize = 128;

fn paserk(value: &impl FormatAsPaserk) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = value.fmt(&mut out);
    out
}

/// A public key that verifies access tokens, and its key id.
///
/// The key id (`k4.pid.…`) is computed from the key, never taken on trust: a token's
/// footer names its key by this id.
#[derive(Clone)]
pub struct PublicKey {
    key: AsymmetricPublicKey<V4>,
    kid: String,
}

impl PublicKey {
    /// Parses a `k4.public.…` PASERK, as `/auth/keys` publishes it (`paserk`).
    ///
    /// # Errors
    /// [`ConfigError::NotPaserk`] when the text is not a v4 public PASERK.
    pub fn from_paserk(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let not_paserk = || ConfigError::NotPaserk(text.chars().take(MAX_KEY_TEXT).collect());
        if text.len() > MAX_KEY_TEXT {
            return Err(not_paserk());
        }
        let key = AsymmetricPublicKey::<V4>::try_from(text).map_err(|_| not_paserk())?;
        let kid = paserk(&Id::from(&key));
        Ok(Self { key, kid })
    }

    /// The key id (`k4.pid.…`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a `k4.public.…` PASERK.
    pub fn to_paserk(&self) -> String {
        paserk(&self.key)
    }

    pub(crate) fn key(&self) -> &AsymmetricPublicKey<V4> {
        &self.key
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.kid)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid
    }
}

impl Eq for PublicKey {}

/// A fixed set of public keys, found by key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<PublicKey>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses PASERK public keys separated by commas or white space, as an environment
    /// variable would hold them (`k4.public.AAA…, k4.public.BBB…`).
    ///
    /// # Errors
    /// [`ConfigError::NotPaserk`] for the first entry that is not a v4 public PASERK;
    /// [`ConfigError::NoKeys`] when the text holds none.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut set = Self::new();
        for item in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|item| !item.is_empty()) {
            set.insert(PublicKey::from_paserk(item)?);
        }
        if set.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        Ok(set)
    }

    /// Adds a key (a key already present is not added twice).
    pub fn insert(&mut self, key: PublicKey) {
        if self.find(key.kid()).is_none() {
            self.keys.push(key);
        }
    }

    /// The key with this id.
    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|key| key.kid() == kid)
    }

    /// The keys, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &PublicKey> {
        self.keys.iter()
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<PublicKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        let mut set = Self::new();
        for key in iter {
            set.insert(key);
        }
        set
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use pasetors::keys::{AsymmetricKeyPair, Generate};

    use super::*;

    /// A fresh key pair and its PASERK public key.
    pub(crate) fn generated() -> (AsymmetricKeyPair<V4>, String) {
        let pair = AsymmetricKeyPair::<V4>::generate().unwrap();
        let text = paserk(&pair.public);
        (pair, text)
    }

    #[test]
    fn a_paserk_round_trips_and_its_id_is_computed() {
        let (pair, text) = generated();
        let key = PublicKey::from_paserk(&format!("  {text}\n")).unwrap();
        assert_eq!(key.to_paserk(), text);
        assert_eq!(key.kid(), paserk(&Id::from(&pair.public)));
        assert!(key.kid().starts_with("k4.pid."));
        assert_eq!(format!("{key:?}"), format!("PublicKey({})", key.kid()));
    }

    #[test]
    fn what_is_not_a_public_paserk_is_refused() {
        for text in
            ["", "k4.public.", "k4.public.short", "k4.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
        {
            assert!(PublicKey::from_paserk(text).is_err(), "{text:?}");
        }
        let (pair, _) = generated();
        let secret = paserk(&pair.secret);
        let error = PublicKey::from_paserk(&secret).unwrap_err();
        assert!(matches!(error, ConfigError::NotPaserk(_)));
        assert!(PublicKey::from_paserk(&"k4.public.A".repeat(40)).is_err());
    }

    #[test]
    fn a_set_parses_lists_and_finds_by_id_without_duplicates() {
        let (_, first) = generated();
        let (_, second) = generated();
        let set = KeySet::parse(&format!("{first}, {second}\n{first}")).unwrap();
        assert_eq!(set.len(), 2);
        let second_kid = PublicKey::from_paserk(&second).unwrap().kid().to_owned();
        assert_eq!(set.find(&second_kid).map(PublicKey::to_paserk), Some(second));
        assert!(set.find("k4.pid.unknown").is_none());
        assert!(matches!(KeySet::parse(" , "), Err(ConfigError::NoKeys)));
        assert!(matches!(KeySet::parse(&format!("{first},nope")), Err(ConfigError::NotPaserk(_))));
    }
}
