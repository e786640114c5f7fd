//! Opaque refresh tokens: a session id and 256 random bits, stored only as a keyed hash.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use super::keyed_hash::{KeyedHasher, TokenHash};
use crate::domain::SessionId;

/// A refresh token: `<session id>.<43 base64url characters>`.
///
/// The session id lets the store find the session; the random part is the secret,
/// and only its keyed hash is stored.
pub struct RefreshToken {
    session_id: SessionId,
    secret: SecretString,
}

impl RefreshToken {
    /// A new token for `session_id` with 256 fresh random bits.
    pub fn generate(session_id: SessionId) -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Self { session_id, secret: SecretString::from(URL_SAFE_NO_PAD.encode(bytes)) }
    }

    /// Splits presented text into its parts; `None` when it is not of this shape.
    pub fn parse(text: &str) -> Option<Self> {
        let (session, secret) = text.trim().split_once('.')?;
        let session_id = session.parse::<SessionId>().ok()?;
        let decoded = URL_SAFE_NO_PAD.decode(secret).ok()?;
        (decoded.len() == 32).then(|| Self { session_id, secret: SecretString::from(secret.to_owned()) })
    }

    /// The session the token belongs to.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// The keyed hash to store or compare.
    pub fn hash(&self, hasher: &KeyedHasher) -> TokenHash {
        hasher.token_hash(self.secret.expose_secret())
    }

    /// The token text, to hand to the client once.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.session_id.as_uuid().simple(), self.secret.expose_secret())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefreshToken({}.***)", self.session_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hashes_the_same() {
        let hasher = KeyedHasher::random();
        let token = RefreshToken::generate(SessionId::generate());
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed.session_id(), token.session_id());
        assert_eq!(parsed.hash(&hasher), token.hash(&hasher));
    }

    #[test]
    fn tokens_are_unique_and_hidden_in_debug() {
        let session = SessionId::generate();
        let first = RefreshToken::generate(session);
        let second = RefreshToken::generate(session);
        assert_ne!(first.expose(), second.expose());
        assert!(!format!("{first:?}").contains(&first.expose()[33..]));
    }

    #[test]
    fn refuses_other_shapes() {
        let session = SessionId::generate().as_uuid().simple().to_string();
        for text in ["", "abc", "abc.def", &format!("{session}.short"), &session] {
            assert!(RefreshToken::parse(text).is_none(), "accepted {text:?}");
        }
    }
}
