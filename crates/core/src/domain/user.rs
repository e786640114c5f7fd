//! The account: an email address, an optional password, and its verification state.

use time::OffsetDateTime;

use super::{EmailAddress, Locale, PasswordHash, Role, UserId};
use crate::crypto::TokenHash;

/// Who registered an unverified account's password: the password becomes usable only
/// when this client completes the verification; anyone else's code step drops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationBinding {
    /// Keyed hash of the registration token handed to the registering client.
    pub token_hash: TokenHash,
    /// Keyed pseudonym of the registering client's network and user agent, which
    /// recognises a client that ignores the token.
    pub client: String,
    /// Until when the client is recognised by `client` alone (the code's lifetime).
    pub expires_at: OffsetDateTime,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable identifier.
    pub id: UserId,
    /// Normalised address; unique across accounts.
    pub email: EmailAddress,
    /// `None` for accounts that only ever signed in with codes or OAuth.
    pub password_hash: Option<PasswordHash>,
    /// When the address was first proven by a code (or a provider's verified email).
    pub email_verified_at: Option<OffsetDateTime>,
    /// When a code sent to the address was last entered correctly.
    pub last_code_verified_at: Option<OffsetDateTime>,
    /// A disabled account cannot sign in, and its tokens are refused.
    pub disabled: bool,
    /// The stored role (see [`Role`] for the role that counts).
    pub role: Role,
    /// For an unverified account with a pending password: who registered it.
    pub registration: Option<RegistrationBinding>,
    /// The language the person chose for mail and the page, if they chose one.
    pub locale: Option<Locale>,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When the account last changed.
    pub updated_at: OffsetDateTime,
}

impl User {
    /// A new account that has not yet proven its address.
    pub fn new_unverified(
        email: EmailAddress,
        password_hash: Option<PasswordHash>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: UserId::generate(),
            email,
            password_hash,
            email_verified_at: None,
            last_code_verified_at: None,
            disabled: false,
            role: Role::User,
            registration: None,
            locale: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// A new account whose address was just proven by a code.
    pub fn new_verified(email: EmailAddress, now: OffsetDateTime) -> Self {
        Self {
            email_verified_at: Some(now),
            last_code_verified_at: Some(now),
            ..Self::new_unverified(email, None, now)
        }
    }

    /// A new account for a person a sign-in provider vouched for: the address is
    /// verified (the provider verified it), there is no password, and no code was ever
    /// entered.
    pub fn new_from_provider(email: EmailAddress, now: OffsetDateTime) -> Self {
        Self { email_verified_at: Some(now), ..Self::new_unverified(email, None, now) }
    }

    /// Whether the address has been proven.
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}
