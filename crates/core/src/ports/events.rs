use async_trait::async_trait;

use crate::domain::AuthEvent;
use crate::error::PortError;

/// Where the services publish what happened to accounts ([`AuthEvent`]s).
///
/// Contract:
/// - [`publish`](Self::publish) returning `Ok` means every durable destination (the
///   webhook outbox) holds the event; in-process subscribers get it on a best-effort
///   basis (a subscriber that falls behind misses events and is told so).
/// - Events of one account are published in the order they happened, and a publisher
///   MUST keep that order for each destination.
/// - An implementation MUST NOT block on a slow or unreachable receiver: delivery to the
///   outside happens later, from an outbox.
#[async_trait]
pub trait EventPublisher: Send + Sync + std::fmt::Debug {
    /// Publishes `event`.
    ///
    /// # Errors
    /// [`PortError`] when a durable destination could not store it (the change the event
    /// describes has happened: the caller logs and goes on).
    async fn publish(&self, event: &AuthEvent) -> Result<(), PortError>;
}
