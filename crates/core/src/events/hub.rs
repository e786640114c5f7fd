use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::domain::{AuthEvent, OutboxId};
use crate::error::PortError;
use crate::mail::OutboxSignal;
use crate::ports::{Clock, EventPublisher, NewWebhook, WebhookOutbox};

/// Events an in-process subscriber may fall behind by before it misses some (and
/// `recv` tells it how many with `RecvError::Lagged`): memory stays bounded whatever
/// the subscriber does.
pub const SUBSCRIBER_BUFFER: usize = 1024;

/// The webhook endpoints and the outbox their deliveries wait in.
#[derive(Debug, Clone)]
pub struct WebhookQueue {
    outbox: Arc<dyn WebhookOutbox>,
    endpoints: Vec<String>,
    clock: Arc<dyn Clock>,
    signal: Arc<OutboxSignal>,
}

impl WebhookQueue {
    /// Queues each event for every one of `endpoints` in `outbox`, due at once by
    /// `clock` (the [`super::WebhookWorker`]'s, which runs on real time: receivers check
    /// the timestamp against theirs), signalling `signal` (shared with the worker).
    pub fn new(
        outbox: Arc<dyn WebhookOutbox>,
        endpoints: Vec<String>,
        clock: Arc<dyn Clock>,
        signal: Arc<OutboxSignal>,
    ) -> Self {
        Self { outbox, endpoints, clock, signal }
    }
}

/// The [`EventPublisher`] of the server: queues events for the webhooks, then hands
/// them to in-process subscribers.
#[derive(Debug, Clone)]
pub struct EventHub {
    webhooks: Option<WebhookQueue>,
    subscribers: broadcast::Sender<AuthEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    /// A hub without webhooks: events go to in-process subscribers only.
    pub fn new() -> Self {
        let (subscribers, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        Self { webhooks: None, subscribers }
    }

    /// A hub that also queues every event for `webhooks`.
    pub fn with_webhooks(webhooks: WebhookQueue) -> Self {
        Self { webhooks: Some(webhooks), ..Self::new() }
    }

    /// A receiver of every event published from now on. Events are delivered in
    /// order; a receiver more than [`SUBSCRIBER_BUFFER`] events behind skips the oldest.
    pub fn subscribe(&self) -> broadcast::Receiver<AuthEvent> {
        self.subscribers.subscribe()
    }
}

#[async_trait]
impl EventPublisher for EventHub {
    async fn publish(&self, event: &AuthEvent) -> Result<(), PortError> {
        if let Some(webhooks) = &self.webhooks
            && !webhooks.endpoints.is_empty()
        {
            let payload = event.payload();
            let queued_at = webhooks.clock.now();
            let deliveries: Vec<NewWebhook> = webhooks
                .endpoints
                .iter()
                .map(|endpoint| NewWebhook {
                    id: OutboxId::generate(),
                    event_id: event.id,
                    user_id: event.user_id,
                    endpoint: endpoint.clone(),
                    payload: payload.clone(),
                    queued_at,
                })
                .collect();
            webhooks.outbox.enqueue(&deliveries).await?;
            webhooks.signal.queued(deliveries.len());
        }
        // No subscriber is not an error.
        let _ = self.subscribers.send(event.clone());
        Ok(())
    }
}
