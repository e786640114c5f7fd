//! A webhook outbox in memory: bounded, and durable only as long as the process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::domain::{EventId, OutboxId, UserId};
use otp_core::ports::{ClaimedWebhook, NewWebhook, WebhookOutbox};
use time::OffsetDateTime;

use crate::lock::lock;

/// Most deliveries kept; past it `enqueue` answers `Unavailable` (the event is logged
/// as lost) rather than growing without bound while an endpoint is down.
pub const WEBHOOK_OUTBOX_CAPACITY: usize = 100_000;

#[derive(Debug)]
struct Entry {
    id: OutboxId,
    event_id: EventId,
    user_id: UserId,
    endpoint: String,
    payload: String,
    available_at: OffsetDateTime,
    attempts: u32,
}

#[derive(Debug, Default)]
struct Queue {
    /// Deliveries by their queueing order.
    entries: BTreeMap<u64, Entry>,
    /// Where each delivery sits in `entries`.
    positions: HashMap<OutboxId, u64>,
    next: u64,
}

/// In-memory [`WebhookOutbox`]: every operation runs under one lock; deliveries are
/// lost when the process stops.
#[derive(Debug)]
pub struct MemoryWebhookOutbox {
    queue: Mutex<Queue>,
    capacity: usize,
}

impl Default for MemoryWebhookOutbox {
    fn default() -> Self {
        Self::with_capacity(WEBHOOK_OUTBOX_CAPACITY)
    }
}

impl MemoryWebhookOutbox {
    /// An empty outbox holding at most [`WEBHOOK_OUTBOX_CAPACITY`] deliveries.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty outbox holding at most `capacity` deliveries.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { queue: Mutex::new(Queue::default()), capacity }
    }
}

#[async_trait]
impl WebhookOutbox for MemoryWebhookOutbox {
    async fn enqueue(&self, deliveries: &[NewWebhook]) -> Result<(), PortError> {
        let mut queue = lock(&self.queue);
        if queue.entries.len() + deliveries.len() > self.capacity {
            return Err(PortError::unavailable("the in-memory webhook outbox is full"));
        }
        for delivery in deliveries {
            let position = queue.next;
            queue.next += 1;
            queue.positions.insert(delivery.id, position);
            queue.entries.insert(
                position,
                Entry {
                    id: delivery.id,
                    event_id: delivery.event_id,
                    user_id: delivery.user_id,
                    endpoint: delivery.endpoint.clone(),
                    payload: delivery.payload.clone(),
                    available_at: delivery.queued_at,
                    attempts: 0,
                },
            );
        }
        Ok(())
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedWebhook>, PortError> {
        let mut queue = lock(&self.queue);
        // Walking in queueing order, the first delivery met for an account and endpoint
        // is its head; later ones wait behind it.
        let mut seen: HashSet<(UserId, String)> = HashSet::new();
        let mut claimed = Vec::new();
        for entry in queue.entries.values_mut() {
            if claimed.len() >= limit {
                break;
            }
            if !seen.insert((entry.user_id, entry.endpoint.clone())) || entry.available_at > now {
                continue;
            }
            entry.attempts += 1;
            entry.available_at = now + lease;
            claimed.push(ClaimedWebhook {
                id: entry.id,
                event_id: entry.event_id,
                endpoint: entry.endpoint.clone(),
                payload: entry.payload.clone(),
                attempts: entry.attempts,
            });
        }
        Ok(claimed)
    }

    async fn complete(&self, id: OutboxId) -> Result<(), PortError> {
        let mut queue = lock(&self.queue);
        if let Some(position) = queue.positions.remove(&id) {
            queue.entries.remove(&position);
        }
        Ok(())
    }

    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError> {
        let mut queue = lock(&self.queue);
        if let Some(position) = queue.positions.get(&id).copied()
            && let Some(entry) = queue.entries.get_mut(&position)
        {
            entry.available_at = at;
        }
        Ok(())
    }

    async fn depth(&self) -> Result<u64, PortError> {
        Ok(lock(&self.queue).entries.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_outbox_refuses_more() {
        let outbox = MemoryWebhookOutbox::with_capacity(1);
        let now = OffsetDateTime::now_utc();
        let delivery = |user_id| NewWebhook {
            id: OutboxId::generate(),
            event_id: EventId::generate(),
            user_id,
            endpoint: "http://127.0.0.1:9/".into(),
            payload: "{}".into(),
            queued_at: now,
        };
        outbox.enqueue(&[delivery(UserId::generate())]).await.unwrap();
        let refused = outbox.enqueue(&[delivery(UserId::generate())]).await;
        assert!(matches!(refused, Err(PortError::Unavailable(_))));
        assert_eq!(outbox.depth().await.unwrap(), 1);
    }
}
