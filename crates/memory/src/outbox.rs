//! A mail outbox in a map: durable only as long as the process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::domain::OutboxId;
use otp_core::ports::{ClaimedMessage, MailOutbox, NewOutboxMessage};
use time::OffsetDateTime;

use crate::lock::lock;

/// Most messages kept; past it `enqueue` answers `Unavailable` rather than growing
/// without bound while the mail server is down.
const CAPACITY: usize = 100_000;

#[derive(Debug)]
struct Entry {
    sealed: String,
    expires_at: OffsetDateTime,
    queued_at: OffsetDateTime,
    available_at: OffsetDateTime,
    attempts: u32,
}

/// In-memory [`MailOutbox`]: every operation runs under one lock. Messages are lost
/// when the process stops; the server tries a last delivery round at shutdown.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    entries: Mutex<HashMap<OutboxId, Entry>>,
}

impl MemoryOutbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl MailOutbox for MemoryOutbox {
    async fn enqueue(&self, message: &NewOutboxMessage) -> Result<(), PortError> {
        let mut entries = lock(&self.entries);
        if entries.len() >= CAPACITY {
            return Err(PortError::unavailable("the in-memory mail outbox is full"));
        }
        entries.insert(
            message.id,
            Entry {
                sealed: message.sealed.clone(),
                expires_at: message.expires_at,
                queued_at: message.queued_at,
                available_at: message.leased_until.unwrap_or(message.queued_at),
                attempts: u32::from(message.leased_until.is_some()),
            },
        );
        Ok(())
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, PortError> {
        let mut entries = lock(&self.entries);
        let mut due: Vec<(OffsetDateTime, OutboxId)> = entries
            .iter()
            .filter(|(_, entry)| entry.available_at <= now)
            .map(|(id, entry)| (entry.queued_at, *id))
            .collect();
        due.sort_unstable();
        let claimed = due
            .into_iter()
            .take(limit)
            .filter_map(|(_, id)| {
                let entry = entries.get_mut(&id)?;
                entry.attempts += 1;
                entry.available_at = now + lease;
                Some(ClaimedMessage {
                    id,
                    sealed: entry.sealed.clone(),
                    expires_at: entry.expires_at,
                    attempts: entry.attempts,
                })
            })
            .collect();
        Ok(claimed)
    }

    async fn complete(&self, id: OutboxId) -> Result<(), PortError> {
        lock(&self.entries).remove(&id);
        Ok(())
    }

    async fn complete_all(&self, ids: &[OutboxId]) -> Result<(), PortError> {
        let mut entries = lock(&self.entries);
        for id in ids {
            entries.remove(id);
        }
        Ok(())
    }

    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError> {
        if let Some(entry) = lock(&self.entries).get_mut(&id) {
            entry.available_at = at;
        }
        Ok(())
    }

    async fn release(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), PortError> {
        if let Some(entry) = lock(&self.entries).get_mut(&id) {
            entry.available_at = now;
            entry.attempts = entry.attempts.saturating_sub(1);
        }
        Ok(())
    }

    async fn depth(&self) -> Result<u64, PortError> {
        Ok(lock(&self.entries).len() as u64)
    }
}
