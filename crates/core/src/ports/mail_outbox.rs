use crate::domain::OutboxId;
use crate::error::PortError;
use async_trait::async_trait;
use time::OffsetDateTime;

/// A message to put in the outbox. The payload is sealed (encrypted and authenticated
/// by [`crate::crypto::MailSealer`]): the outbox never holds a code in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    /// The message's identifier, bound into the sealed payload.
    pub id: OutboxId,
    /// The sealed message.
    pub sealed: String,
    /// After this instant the message is worthless (its code has expired) and is
    /// dropped rather than sent.
    pub expires_at: OffsetDateTime,
    /// When the message was queued; it is due at once, unless `leased_until` is set.
    pub queued_at: OffsetDateTime,
    /// Set when the queueing process delivers the message itself (handed straight to its
    /// delivery loops instead of claimed back): the message is stored as if claimed at
    /// once, one attempt counted, and claims pass over it until this instant. When that
    /// process dies first, the message is due then, as any claimed message whose
    /// claimer died.
    pub leased_until: Option<OffsetDateTime>,
}

/// A message taken from the outbox for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    /// The message's identifier.
    pub id: OutboxId,
    /// The sealed message.
    pub sealed: String,
    /// When the message stops being worth sending.
    pub expires_at: OffsetDateTime,
    /// Delivery attempts so far, counting this one.
    pub attempts: u32,
}

/// A durable queue of outgoing mail with leases, so that a request never waits for the
/// mail server and no message is lost when it is down.
///
/// Contract:
/// - [`enqueue`](Self::enqueue) returning `Ok` means the message is stored and will be
///   claimable until it is completed or dropped: at once, or, for a message with
///   [`NewOutboxMessage::leased_until`], from then on with one attempt already counted.
/// - [`claim`](Self::claim) returns due messages (oldest first, at most `limit`), counts an
///   attempt on each and hides them from other claims for `lease`. A message whose lease
///   runs out (its claimer died) becomes due again. Concurrent claims never return the
///   same message twice within one lease.
/// - [`complete`](Self::complete) removes a message (delivered, or given up on);
///   [`complete_all`](Self::complete_all) removes several in one step.
/// - [`retry_at`](Self::retry_at) makes a claimed message due again at `at`.
/// - [`release`](Self::release) makes a claimed message due at once without counting the
///   attempt (used at shutdown for messages claimed but not tried).
#[async_trait]
pub trait MailOutbox: Send + Sync + std::fmt::Debug {
    /// Stores a message, due at once.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when the store cannot be reached (nothing was queued).
    async fn enqueue(&self, message: &NewOutboxMessage) -> Result<(), PortError>;

    /// Takes up to `limit` due messages for one attempt each, hidden for `lease`.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<ClaimedMessage>, PortError>;

    /// Removes a message for good.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn complete(&self, id: OutboxId) -> Result<(), PortError>;

    /// Removes every message of `ids` for good, in one step where the store can (one
    /// statement, one commit); ids of messages already gone are ignored. The default
    /// removes them one by one with [`complete`](Self::complete).
    ///
    /// # Errors
    /// [`PortError`] when the store fails (some of them may have been removed).
    async fn complete_all(&self, ids: &[OutboxId]) -> Result<(), PortError> {
        for id in ids {
            self.complete(*id).await?;
        }
        Ok(())
    }

    /// Makes a claimed message due again at `at`.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError>;

    /// Makes a claimed message due at once and uncounts the attempt of its claim.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn release(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), PortError>;

    /// How many messages wait, due or leased.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn depth(&self) -> Result<u64, PortError>;
}
