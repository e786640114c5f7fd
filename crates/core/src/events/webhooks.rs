use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use crate::crypto::WebhookSigner;
use crate::error::PortError;
use crate::mail::{DeliveryPolicy, OutboxSignal, run_rounds};
use crate::ports::{ClaimedWebhook, Clock, WebhookOutbox, WebhookRequest, WebhookSender};

/// What one webhook delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRound {
    /// Deliveries claimed this round.
    pub claimed: usize,
    /// Deliveries the endpoint accepted (2xx).
    pub delivered: usize,
    /// Deliveries put back for a later try.
    pub deferred: usize,
    /// Deliveries given up on after the last attempt.
    pub dropped: usize,
}

/// Delivers queued events to the webhook endpoints: claims the due deliveries (the
/// oldest of each account and endpoint only, so one account's events arrive in order),
/// signs each attempt anew (`webhook-id` stays the event's id, `webhook-timestamp` is
/// the attempt's), sends it, and completes it, retries it with exponential backoff, or
/// gives up after the last attempt. One per process; several may share one outbox.
#[derive(Debug)]
pub struct WebhookWorker {
    outbox: Arc<dyn WebhookOutbox>,
    sender: Arc<dyn WebhookSender>,
    signer: WebhookSigner,
    clock: Arc<dyn Clock>,
    policy: DeliveryPolicy,
    signal: Arc<OutboxSignal>,
}

impl WebhookWorker {
    /// A worker sending from `outbox` through `sender`, signing with `signer`, paced by
    /// `policy` (its `notice_lifetime` is unused: an event is worth delivering until its
    /// attempts run out); `signal` is shared with the [`super::WebhookQueue`].
    pub fn new(
        outbox: Arc<dyn WebhookOutbox>,
        sender: Arc<dyn WebhookSender>,
        signer: WebhookSigner,
        clock: Arc<dyn Clock>,
        policy: DeliveryPolicy,
        signal: Arc<OutboxSignal>,
    ) -> Self {
        Self { outbox, sender, signer, clock, policy, signal }
    }

    /// Claims one batch of due deliveries and tries each once. After an endpoint fails,
    /// the rest of the batch for that endpoint waits without paying its time-out.
    ///
    /// # Errors
    /// [`PortError`] when the outbox fails; the claimed deliveries come back when their
    /// lease ends.
    pub async fn deliver_due(&self) -> Result<WebhookRound, PortError> {
        let now = self.clock.now();
        let claimed = self.outbox.claim(now, self.policy.batch_size, self.policy.lease).await?;
        let mut round = WebhookRound { claimed: claimed.len(), ..WebhookRound::default() };
        let mut failing: HashSet<String> = HashSet::new();
        for delivery in claimed {
            if failing.contains(&delivery.endpoint) {
                self.defer(&delivery, &mut round).await?;
                continue;
            }
            match self.sender.send(&self.request(&delivery)).await {
                Ok(()) => {
                    self.outbox.complete(delivery.id).await?;
                    round.delivered += 1;
                    tracing::info!(event_id = %delivery.event_id, attempts = delivery.attempts, "webhook delivered");
                    metrics::counter!("otp_webhooks_delivered_total").increment(1);
                }
                Err(error) => {
                    tracing::warn!(event_id = %delivery.event_id, attempts = delivery.attempts, %error, "webhook endpoint failed; will retry");
                    metrics::counter!("otp_webhook_send_failures_total").increment(1);
                    failing.insert(delivery.endpoint.clone());
                    self.defer(&delivery, &mut round).await?;
                }
            }
        }
        if round.delivered + round.dropped > 0 {
            // The next event of each account and endpoint served waited behind the one
            // just done (one at a time, in order) and may go now: a loop is woken for it
            // rather than leaving it to the next idle poll, a second later.
            self.signal.queued(1);
        }
        Ok(round)
    }

    /// The signed request of this attempt.
    fn request(&self, delivery: &ClaimedWebhook) -> WebhookRequest {
        let id = delivery.event_id.to_string();
        let timestamp = self.clock.now().unix_timestamp();
        let signature = self.signer.sign(&id, timestamp, delivery.payload.as_bytes());
        WebhookRequest {
            endpoint: delivery.endpoint.clone(),
            id,
            timestamp,
            signature,
            body: delivery.payload.clone(),
        }
    }

    /// Schedules the next try, or gives up when the attempts run out.
    async fn defer(&self, delivery: &ClaimedWebhook, round: &mut WebhookRound) -> Result<(), PortError> {
        if delivery.attempts >= self.policy.max_attempts {
            tracing::error!(event_id = %delivery.event_id, attempts = delivery.attempts, "webhook undeliverable: retry budget spent; dropped");
            metrics::counter!("otp_webhooks_dropped_total").increment(1);
            self.outbox.complete(delivery.id).await?;
            round.dropped += 1;
        } else {
            let next = self.clock.now() + self.policy.backoff(delivery.attempts);
            self.outbox.retry_at(delivery.id, next).await?;
            round.deferred += 1;
        }
        Ok(())
    }

    /// How many deliveries wait, or `None` when the outbox cannot be read.
    pub async fn pending(&self) -> Option<u64> {
        self.outbox.depth().await.ok()
    }

    /// Delivers until `shutdown` completes: a round whenever an event is queued, and,
    /// for one waiting loop of the process at a time, every [`DeliveryPolicy::idle_poll`]
    /// for retries and other instances' events. A round in progress is finished first.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let round = || async move {
            let round = self.deliver_due().await?;
            Ok((round.claimed, round.deferred))
        };
        run_rounds(round, &self.policy, &self.signal, shutdown, "webhooks").await;
    }
}
