use async_trait::async_trait;

use crate::domain::{AuditEntry, AuditEntryId};
use crate::error::PortError;

/// Durable, append-only record of what administrators did.
///
/// Entries are never changed or removed through the port, and do not depend on the
/// accounts they name: deleting an account keeps the entries about it.
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
}
