use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{DeliveryMeter, DeliveryPolicy};
use crate::crypto::MailSealer;
use crate::domain::MailMessage;
use crate::domain::OutboxId;
use crate::error::PortError;
use crate::ports::{Clock, MailOutbox, Mailer, NewOutboxMessage};

/// A [`Mailer`] that seals each message into the outbox and wakes the delivery worker.
/// `send` returns as soon as the message is stored, whatever the mail server's state.
#[derive(Debug)]
pub struct QueueingMailer {
    outbox: Arc<dyn MailOutbox>,
    sealer: MailSealer,
    clock: Arc<dyn Clock>,
    notice_lifetime: std::time::Duration,
    wake: Arc<Notify>,
    meter: Arc<DeliveryMeter>,
}

impl QueueingMailer {
    /// Queues into `outbox`; `wake` and `meter` are shared with the
    /// [`super::DeliveryWorker`].
    pub fn new(
        outbox: Arc<dyn MailOutbox>,
        sealer: MailSealer,
        clock: Arc<dyn Clock>,
        policy: &DeliveryPolicy,
        wake: Arc<Notify>,
        meter: Arc<DeliveryMeter>,
    ) -> Self {
        Self { outbox, sealer, clock, notice_lifetime: policy.notice_lifetime, wake, meter }
    }
}

#[async_trait]
impl Mailer for QueueingMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        let id = OutboxId::generate();
        let sealed = self.sealer.seal(id, message).map_err(PortError::failed)?;
        let now = self.clock.now();
        let lifetime = message.kind.expires_in().unwrap_or(self.notice_lifetime);
        let entry = NewOutboxMessage { id, sealed, expires_at: now + lifetime, queued_at: now };
        self.outbox.enqueue(&entry).await?;
        self.meter.queued();
        metrics::counter!("otp_mail_queued_total", "flow" => message.kind.flow()).increment(1);
        tracing::debug!(outbox_id = %id, kind = message.kind.label(), "mail queued");
        self.wake.notify_one();
        Ok(())
    }

    fn expected_delay(&self) -> Option<std::time::Duration> {
        self.meter.expected_delay()
    }
}
