//! Audit entries in an ordered map.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::domain::{AuditEntry, AuditEntryId};
use otp_core::ports::AuditLog;
use otp_core::{EmailAddress, PortError, UserId};

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

    async fn list_for_user(&self, user_id: UserId, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        let entries = lock(&self.entries);
        let names = |entry: &&AuditEntry| entry.actor_id == user_id || entry.target_id == Some(user_id);
        Ok(entries.values().rev().filter(names).take(limit).cloned().collect())
    }

    async fn pseudonymise(&self, user_id: UserId, pseudonym: &EmailAddress) -> Result<u64, PortError> {
        let mut changed = 0;
        for entry in lock(&self.entries).values_mut() {
            let mut touched = false;
            if entry.actor_id == user_id {
                entry.actor_email = pseudonym.clone();
                touched = true;
            }
            if entry.target_id == Some(user_id) && entry.target_email.is_some() {
                entry.target_email = Some(pseudonym.clone());
                touched = true;
            }
            changed += u64::from(touched);
        }
        Ok(changed)
    }
}
