use async_trait::async_trait;

use crate::domain::{AuditEntry, AuditEntryId, EmailAddress, UserId};
use crate::error::PortError;

/// Durable, append-only record of what administrators did.
///
/// Entries are never removed through the port, and do not depend on the accounts they
/// name: deleting an account keeps the entries about it. The one change allowed is
/// [`AuditLog::pseudonymise`], which replaces a deleted account's address.
#[async_trait]
pub trait AuditLog: Send + Sync + std::fmt::Debug {
    /// Stores a new entry exactly as given.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached;
    /// [`PortError::Failed`] when an entry with the same id exists.
    async fn append(&self, entry: &AuditEntry) -> Result<(), PortError>;

    /// At most `limit` entries in descending order of id (UUIDv7, so the newest
    /// first), only those whose id sorts strictly below `before` when it is given
    /// (the last id of the previous page).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn list(&self, before: Option<AuditEntryId>, limit: usize) -> Result<Vec<AuditEntry>, PortError>;

    /// At most `limit` entries whose actor or target is `user_id`, newest first.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn list_for_user(&self, user_id: UserId, limit: usize) -> Result<Vec<AuditEntry>, PortError>;

    /// Replaces the address of `user_id` in every entry naming it (as actor or as
    /// target) with `pseudonym`; returns how many entries changed. Used when an
    /// account is deleted at its owner's request, so the log keeps who did what
    /// without the address in clear.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn pseudonymise(&self, user_id: UserId, pseudonym: &EmailAddress) -> Result<u64, PortError>;
}
