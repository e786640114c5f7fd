//! Mail a process queued, handed straight to its own delivery loops.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

use crate::domain::{MailMessage, OutboxId};

/// A message this process queued, stored in the outbox leased to it.
#[derive(Debug)]
pub(crate) struct HandedMessage {
    pub(crate) id: OutboxId,
    pub(crate) message: MailMessage,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) leased_until: OffsetDateTime,
}

/// The messages a [`super::QueueingMailer`] queued, waiting for the process's own
/// [`super::DeliveryWorker`] loops, oldest first.
///
/// Each one is also in the outbox, stored as if claimed by this process at once
/// ([`crate::ports::NewOutboxMessage::leased_until`]). A loop takes it from here instead
/// of claiming it back and opening its sealed copy: a round of queued mail costs the
/// outbox one write less (measured on PostgreSQL: about 135 claims per 1,000 mails
/// before). Nothing is lost when the process dies with messages still here: the outbox
/// makes them due when their lease ends (a process that stops releases them first:
/// [`super::DeliveryWorker::release_handed`]). A message whose lease is half gone before
/// a loop gets to it is left to the outbox, so no other instance can claim it while it
/// is being sent.
///
/// Bounded: the queue takes new messages only while it holds fewer than its capacity;
/// beyond, they are stored due at once, and the next round claims them before it takes
/// from here.
#[derive(Debug)]
pub struct MailHandoff {
    queue: Mutex<VecDeque<HandedMessage>>,
    capacity: usize,
    /// Whether a message was stored due at once (the hand-off was full) since the last
    /// claim started.
    spilled: AtomicBool,
}

impl MailHandoff {
    /// A hand-off holding up to about `capacity` messages (it is checked before each
    /// message is stored, so concurrent requests may pass it by their number).
    pub fn new(capacity: usize) -> Self {
        Self { queue: Mutex::new(VecDeque::new()), capacity, spilled: AtomicBool::new(false) }
    }

    /// How many messages wait here.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no message waits here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a message about to be queued may be handed over.
    pub(crate) fn has_room(&self) -> bool {
        self.len() < self.capacity
    }

    /// A message was stored due at once for want of room here (call once it is stored,
    /// so a claim that starts after can see it).
    pub(crate) fn spilled(&self) {
        self.spilled.store(true, Ordering::Release);
    }

    /// Whether a message spilled into the outbox since the last claim started.
    pub(crate) fn has_spilled(&self) -> bool {
        self.spilled.load(Ordering::Acquire)
    }

    /// A claim starts: whether a message spilled into the outbox since the last one.
    pub(crate) fn take_spilled(&self) -> bool {
        self.spilled.swap(false, Ordering::AcqRel)
    }

    /// Hands over a message now stored leased in the outbox.
    pub(crate) fn push(&self, message: HandedMessage) {
        self.lock().push_back(message);
    }

    /// Takes up to `limit` messages, oldest first. Those with less than `margin` of their
    /// lease left at `now` are passed over: the outbox makes them due when it ends.
    pub(crate) fn take(&self, limit: usize, now: OffsetDateTime, margin: Duration) -> Vec<HandedMessage> {
        let mut queue = self.lock();
        let mut taken = Vec::with_capacity(limit.min(queue.len()));
        while taken.len() < limit {
            let Some(message) = queue.pop_front() else { break };
            if message.leased_until - now >= margin {
                taken.push(message);
            } else {
                tracing::debug!(outbox_id = %message.id, "handed-over mail left to the outbox: its lease is running out");
            }
        }
        taken
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<HandedMessage>> {
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use crate::EmailAddress;

    use super::*;

    fn handed(leased_until: OffsetDateTime) -> HandedMessage {
        let to = EmailAddress::parse("ann@example.com").unwrap();
        HandedMessage {
            id: OutboxId::generate(),
            message: MailMessage::new(to, crate::domain::MailKind::AccountExists),
            expires_at: leased_until,
            leased_until,
        }
    }

    #[test]
    fn takes_the_oldest_first_up_to_the_limit() {
        let now = OffsetDateTime::now_utc();
        let handoff = MailHandoff::new(10);
        let ids: Vec<OutboxId> = (0..3)
            .map(|_| {
                let message = handed(now + Duration::from_secs(120));
                let id = message.id;
                handoff.push(message);
                id
            })
            .collect();
        let first: Vec<OutboxId> =
            handoff.take(2, now, Duration::from_secs(60)).iter().map(|message| message.id).collect();
        assert_eq!(first, ids[..2]);
        assert_eq!(handoff.len(), 1);
    }

    #[test]
    fn passes_over_messages_whose_lease_is_running_out() {
        let now = OffsetDateTime::now_utc();
        let handoff = MailHandoff::new(10);
        handoff.push(handed(now + Duration::from_secs(59)));
        let fresh = handed(now + Duration::from_secs(60));
        let fresh_id = fresh.id;
        handoff.push(fresh);
        let taken = handoff.take(2, now, Duration::from_secs(60));
        assert_eq!(taken.iter().map(|message| message.id).collect::<Vec<_>>(), vec![fresh_id]);
        assert!(handoff.is_empty(), "the one passed over is gone from the hand-off");
    }

    #[test]
    fn has_room_below_its_capacity_only() {
        let now = OffsetDateTime::now_utc();
        let handoff = MailHandoff::new(1);
        assert!(handoff.has_room());
        handoff.push(handed(now));
        assert!(!handoff.has_room());
        assert!(!MailHandoff::new(0).has_room(), "a capacity of 0 hands nothing over");
    }
}
