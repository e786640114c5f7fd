use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{EmailAddress, PasswordHash, User, UserId};
use crate::error::PortError;

/// Durable storage of accounts.
///
/// Addresses are stored normalised (see [`EmailAddress`]) and are unique: two accounts
/// never share one, whatever the interleaving of concurrent calls.
#[async_trait]
pub trait UserRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new account exactly as given.
    ///
    /// # Errors
    /// MUST return [`PortError::EmailTaken`] when an account with the same address
    /// exists, including when another `create` for that address wins a race;
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn create(&self, user: &User) -> Result<(), PortError>;

    /// The account with this identifier, if any.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError>;

    /// The account with this (normalised) address, if any.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, PortError>;

    /// Replaces the password hash (or removes it, with `None`) and sets `updated_at` to
    /// `now`. Returns `false` when no account has this identifier.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn set_password(
        &self,
        id: UserId,
        hash: Option<&PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<bool, PortError>;

    /// Records that a code sent to the account's address was entered correctly at
    /// `now`: sets `last_code_verified_at` to `now`, sets `email_verified_at` to `now`
    /// if it was unset (an earlier verification time is kept), and `updated_at` to
    /// `now`. Returns the updated account, or `None` when no account has this id.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn record_code_verified(&self, id: UserId, now: OffsetDateTime) -> Result<Option<User>, PortError>;
}
