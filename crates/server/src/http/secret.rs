//! Secret request fields (codes, passwords, tokens, OAuth state): only a JSON string
//! is accepted, and a value of another type is refused without echoing it.

use secrecy::SecretString;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// A secret field (code, password, token): only a JSON string is accepted, and a
/// value of another type is refused without echoing it into the error.
pub(crate) struct Secret(pub SecretString);

impl Secret {
    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: de::Error>(self) -> Result<Secret, E> {
        Err(E::custom(
            "secret fields (code, otp, password, new_password, refresh_token, state) must be JSON strings",
        ))
    }
}

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret(SecretString::from(value)))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Secret, E> {
        self.refuse()
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        self.refuse()
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        self.refuse()
    }
}
