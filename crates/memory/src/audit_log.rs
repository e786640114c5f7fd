//! Audit entries in an ordered map.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::domain::{AuditEntry, AuditEntryId};
use otp_core::ports::AuditLog;

use crate::lock::lock;

/// In-memory [`AuditLog`]: every entry, in id order, for the life of the process.
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    entries: Mutex<BTreeMap<AuditEntryId, AuditEntry>>,
}

impl MemoryAuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl AuditLog for MemoryAuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<(), PortError> {
        let mut entries = lock(&self.entries);
        if entries.contains_key(&entry.id) {
            return Err(PortError::failed(format!("appending an audit entry: id {} exists", entry.id)));
        }
        entries.insert(entry.id, entry.clone());
        Ok(())
    }

    async fn list(&self, before: Option<AuditEntryId>, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        let entries = lock(&self.entries);
        let older = match before {
            Some(before) => entries.range(..before),
            None => entries.range(..),
        };
        Ok(older.rev().take(limit).map(|(_, entry)| entry.clone()).collect())
    }
}
