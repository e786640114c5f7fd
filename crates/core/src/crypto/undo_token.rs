//! The token of the link that undoes an address change: it names the account and the
//! address to move back to, and carries 256 random bits. Only a keyed hash of it, bound
//! to both, is stored.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use super::keyed_hash::{CodeHash, KeyedHasher};
use super::random_secret::{is_random_secret, random_secret};
use crate::domain::{EmailAddress, UserId};

/// An undo token: `<user id, 32 hex digits>.<43 base64url characters>.<old address in
/// base64url>`.
pub struct UndoToken {
    user_id: UserId,
    old_email: EmailAddress,
    secret: SecretString,
}

impl UndoToken {
    /// A new token for moving `user_id` back to `old_email`.
    pub fn generate(user_id: UserId, old_email: EmailAddress) -> Self {
        Self { user_id, old_email, secret: SecretString::from(random_secret()) }
    }

    /// Splits presented text into its parts; `None` when it is not of this shape.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let (id, secret, email) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !is_random_secret(secret) {
            return None;
        }
        let user_id = uuid::Uuid::try_parse(id).ok().map(UserId::from_uuid)?;
        let email = String::from_utf8(URL_SAFE_NO_PAD.decode(email).ok()?).ok()?;
        let old_email = EmailAddress::parse(&email).ok()?;
        Some(Self { user_id, old_email, secret: SecretString::from(secret.to_owned()) })
    }

    /// The account to move back.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// The address to move it back to.
    pub fn old_email(&self) -> &EmailAddress {
        &self.old_email
    }

    /// The keyed hash to store or compare, bound to the account and the address.
    pub fn hash(&self, hasher: &KeyedHasher) -> CodeHash {
        hasher.undo_hash(self.user_id, &self.old_email, self.secret.expose_secret())
    }

    /// The token text, for the link.
    pub fn expose(&self) -> String {
        format!(
            "{}.{}.{}",
            self.user_id.as_uuid().simple(),
            self.secret.expose_secret(),
            URL_SAFE_NO_PAD.encode(self.old_email.as_str())
        )
    }
}

impl fmt::Debug for UndoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UndoToken({}.***)", self.user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_their_hash_binds_every_part() {
        let hasher = KeyedHasher::random();
        let email = EmailAddress::parse("ann@example.com").unwrap();
        let token = UndoToken::generate(UserId::generate(), email.clone());
        let parsed = UndoToken::parse(&token.expose()).unwrap();
        assert_eq!((parsed.user_id(), parsed.old_email()), (token.user_id(), &email));
        assert!(parsed.hash(&hasher).ct_eq(&token.hash(&hasher)));

        let other_email = format!(
            "{}.{}",
            token.expose().rsplit_once('.').unwrap().0,
            URL_SAFE_NO_PAD.encode("eve@example.com")
        );
        let forged = UndoToken::parse(&other_email).unwrap();
        assert!(!forged.hash(&hasher).ct_eq(&token.hash(&hasher)));
        assert!(!format!("{token:?}").contains(token.secret.expose_secret()));
        for bad in ["", "a.b.c", &format!("{}.x.y", token.user_id().as_uuid().simple())] {
            assert!(UndoToken::parse(bad).is_none(), "{bad}");
        }
    }
}
