use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{DeliveryMeter, DeliveryPolicy, HandedMessage, MailHandoff, OutboxSignal};
use crate::crypto::MailSealer;
use crate::domain::MailMessage;
use crate::domain::OutboxId;
use crate::error::PortError;
use crate::ports::{Clock, MailOutbox, Mailer, NewOutboxMessage};

/// A [`Mailer`] that seals each message into the outbox and signals the delivery loops.
/// `send` returns as soon as the message is stored, whatever the mail server's state.
///
/// It admits a code ([`Mailer::admit`]) only while the backlog, at the measured send
/// rate, would deliver it with at least half its lifetime left, and while its sender
/// has fewer than [`QueueingMailer::with_sender_cap`] messages queued, so one client's
/// flood cannot delay everybody else's codes by more than that many sends.
#[derive(Debug)]
pub struct QueueingMailer {
    outbox: Arc<dyn MailOutbox>,
    sealer: MailSealer,
    clock: Arc<dyn Clock>,
    notice_lifetime: Duration,
    lease: Duration,
    signal: Arc<OutboxSignal>,
    meter: Arc<DeliveryMeter>,
    sender_cap: usize,
    handoff: Option<Arc<MailHandoff>>,
}

impl QueueingMailer {
    /// Queues into `outbox`; `signal` and `meter` are shared with the
    /// [`super::DeliveryWorker`].
    pub fn new(
        outbox: Arc<dyn MailOutbox>,
        sealer: MailSealer,
        clock: Arc<dyn Clock>,
        policy: &DeliveryPolicy,
        signal: Arc<OutboxSignal>,
        meter: Arc<DeliveryMeter>,
    ) -> Self {
        Self {
            outbox,
            sealer,
            clock,
            notice_lifetime: policy.notice_lifetime,
            lease: policy.lease,
            signal,
            meter,
            sender_cap: 0,
            handoff: None,
        }
    }

    /// Hands each message, once stored (leased to this process for the policy's lease),
    /// to the delivery loops through `handoff` while it has room; the
    /// [`super::DeliveryWorker`] must share it ([`super::DeliveryWorker::with_handoff`]).
    #[must_use]
    pub fn with_handoff(mut self, handoff: Arc<MailHandoff>) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// At most `cap` messages queued per sender (0: no cap).
    #[must_use]
    pub fn with_sender_cap(mut self, cap: usize) -> Self {
        self.sender_cap = cap;
        self
    }

    async fn queue(&self, message: &MailMessage, sender: Option<&str>) -> Result<(), PortError> {
        let id = OutboxId::generate();
        let sealed = self.sealer.seal(id, message).map_err(PortError::failed)?;
        let now = self.clock.now();
        let lifetime = message.kind.expires_in().unwrap_or(self.notice_lifetime);
        // Handed over (stored leased to this process) while the hand-off has room.
        let leased_until =
            self.handoff.as_ref().filter(|handoff| handoff.has_room()).map(|_| now + self.lease);
        let expires_at = now + lifetime;
        let entry = NewOutboxMessage { id, sealed, expires_at, queued_at: now, leased_until };
        // Counted before it is stored: a delivery loop may send it and report it
        // finished before `enqueue` returns, and a count made after that would never
        // be taken back (the sender would keep it until the message's lifetime ends).
        match sender {
            Some(sender) => self.meter.queued_for(id, sender, lifetime),
            None => self.meter.queued(),
        }
        if let Err(error) = self.outbox.enqueue(&entry).await {
            self.meter.finished(id);
            return Err(error);
        }
        if let Some(handoff) = &self.handoff {
            match leased_until {
                Some(leased_until) => {
                    handoff.push(HandedMessage { id, message: message.clone(), expires_at, leased_until });
                }
                None => handoff.spilled(),
            }
        }
        metrics::counter!("otp_mail_queued_total", "flow" => message.kind.flow()).increment(1);
        tracing::debug!(outbox_id = %id, kind = message.kind.label(), "mail queued");
        self.signal.queued(1);
        Ok(())
    }
}

#[async_trait]
impl Mailer for QueueingMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        self.queue(message, None).await
    }

    async fn send_for(&self, message: &MailMessage, sender: &str) -> Result<(), PortError> {
        self.queue(message, Some(sender)).await
    }

    fn admit(&self, sender: &str, lifetime: Duration) -> Result<(), Duration> {
        let send_time = self.meter.rate().map(|rate| Duration::from_secs_f64(1.0 / rate));
        if self.sender_cap > 0 && self.meter.queued_by(sender) >= self.sender_cap {
            // Until some of this sender's own mail has gone out.
            let wait = send_time.map_or(Duration::ZERO, |each| {
                each.saturating_mul(u32::try_from(self.sender_cap / 2).unwrap_or(u32::MAX))
            });
            return Err(wait.max(Duration::from_secs(1)));
        }
        let Some(delay) = self.meter.expected_delay() else { return Ok(()) };
        let limit = lifetime / 2;
        if delay <= limit {
            return Ok(());
        }
        Err((delay - limit).max(Duration::from_secs(1)))
    }
}
