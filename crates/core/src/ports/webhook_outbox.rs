use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{EventId, OutboxId, UserId};
use crate::error::PortError;

/// One event to deliver to one webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// The delivery's identifier (one per event and endpoint).
    pub id: OutboxId,
    /// The event's identifier: the `webhook-id` of every attempt.
    pub event_id: EventId,
    /// The account the event is about: deliveries of one account to one endpoint go out
    /// in order.
    pub user_id: UserId,
    /// The endpoint's URL.
    pub endpoint: String,
    /// The JSON body (ids and method names only, never a secret).
    pub payload: String,
    /// When it was queued; it is due at once.
    pub queued_at: OffsetDateTime,
}

/// A delivery taken from the outbox for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedWebhook {
    /// The delivery's identifier.
    pub id: OutboxId,
    /// The event's identifier.
    pub event_id: EventId,
    /// The endpoint's URL.
    pub endpoint: String,
    /// The JSON body.
    pub payload: String,
    /// Attempts so far, counting this one.
    pub attempts: u32,
}

/// A durable queue of webhook deliveries with leases and per-account order.
///
/// Contract:
/// - [`enqueue`](Self::enqueue) stores all the given deliveries or none; `Ok` means they
///   stay claimable until completed. Deliveries queued earlier come first.
/// - [`claim`](Self::claim) returns at most `limit` due deliveries, oldest first, and
///   only the **oldest** delivery still queued for its account and endpoint: a later
///   one waits, even when due, until every earlier one of that account to that endpoint
///   is completed. It counts an attempt on each and hides it for `lease`; a delivery
///   whose lease runs out becomes due again. Concurrent claims never return the same
///   delivery twice within one lease.
/// - [`complete`](Self::complete) removes a delivery (delivered, or given up on).
/// - [`retry_at`](Self::retry_at) makes a claimed delivery due again at `at`.
#[async_trait]
pub trait WebhookOutbox: Send + Sync + std::fmt::Debug {
    /// Stores `deliveries`, due at once, in their order.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when the store cannot be reached or is full (nothing
    /// was queued).
    async fn enqueue(&self, deliveries: &[NewWebhook]) -> Result<(), PortError>;

    /// Takes up to `limit` due deliveries, each the oldest of its account and endpoint.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<ClaimedWebhook>, PortError>;

    /// Removes a delivery for good.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn complete(&self, id: OutboxId) -> Result<(), PortError>;

    /// Makes a claimed delivery due again at `at`.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError>;

    /// How many deliveries wait, due or leased.
    ///
    /// # Errors
    /// [`PortError`] when the store fails.
    async fn depth(&self) -> Result<u64, PortError>;
}

/// One signed webhook request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// The endpoint's URL.
    pub endpoint: String,
    /// The `webhook-id` header: the event's id.
    pub id: String,
    /// The `webhook-timestamp` header: Unix seconds of this attempt.
    pub timestamp: i64,
    /// The `webhook-signature` header: `v1,<base64>`.
    pub signature: String,
    /// The JSON body.
    pub body: String,
}

/// Sends webhook requests over HTTP.
///
/// Contract: `Ok` only when the endpoint answered 2xx; any other answer, a time-out or
/// a connection failure is an error, and the delivery is retried.
#[async_trait]
pub trait WebhookSender: Send + Sync + std::fmt::Debug {
    /// POSTs `request` to its endpoint with the three Standard Webhooks headers and
    /// `Content-Type: application/json`.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when the endpoint cannot be reached or times out,
    /// [`PortError::Failed`] when it answers outside 2xx.
    async fn send(&self, request: &WebhookRequest) -> Result<(), PortError>;
}
