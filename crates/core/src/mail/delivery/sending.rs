//! One round's sends: the messages a round took, checked and opened, then handed to
//! the transport up to [`crate::ports::Mailer::batch_limit`] at a time, and each one
//! completed, deferred or dropped.

use super::{DeliveryRound, DeliveryWorker, dropped};
use crate::domain::{MailMessage, OutboxId};
use crate::error::PortError;
use crate::mail::HandedMessage;
use crate::ports::ClaimedMessage;

/// A message a round tries once.
pub(super) struct Taken {
    retry: Retry,
    /// When the lease this process holds on it ends.
    leased_until: time::OffsetDateTime,
    content: Content,
}

enum Content {
    /// Claimed back from the outbox: opened just before it is sent.
    Sealed(String),
    /// Handed over by this process's queue.
    Open(MailMessage),
}

/// What deciding on a message's next try needs.
struct Retry {
    id: OutboxId,
    expires_at: time::OffsetDateTime,
    /// Attempts so far, counting this one.
    attempts: u32,
}

/// A message about to be sent: within its lease, not expired, opened.
struct Ready {
    retry: Retry,
    message: MailMessage,
}

impl Taken {
    pub(super) fn claimed(claimed: ClaimedMessage, leased_until: time::OffsetDateTime) -> Self {
        Self {
            retry: Retry { id: claimed.id, expires_at: claimed.expires_at, attempts: claimed.attempts },
            leased_until,
            content: Content::Sealed(claimed.sealed),
        }
    }
}

impl From<HandedMessage> for Taken {
    fn from(handed: HandedMessage) -> Self {
        Self {
            // Stored with one attempt counted, as a claim counts it.
            retry: Retry { id: handed.id, expires_at: handed.expires_at, attempts: 1 },
            leased_until: handed.leased_until,
            content: Content::Open(handed.message),
        }
    }
}

impl DeliveryWorker {
    /// Tries each message once, counting in `round`, in batches of the transport's
    /// [`crate::ports::Mailer::batch_limit`]; the ids of those it is done with go into
    /// `done`. Once the transport is unavailable, the rest of the round waits too,
    /// without each message paying a connection time-out.
    pub(super) async fn try_each(
        &self,
        taken: Vec<Taken>,
        round: &mut DeliveryRound,
        done: &mut Vec<OutboxId>,
    ) -> Result<(), PortError> {
        let limit = self.transport.batch_limit().max(1);
        let mut pending = taken.into_iter();
        loop {
            // Gathered right before the send, so each lease is checked just before it.
            let mut batch = Vec::with_capacity(limit);
            for taken in pending.by_ref() {
                if let Some(ready) = self.ready(taken, round, done) {
                    batch.push(ready);
                    if batch.len() == limit {
                        break;
                    }
                }
            }
            if batch.is_empty() {
                return Ok(());
            }
            if self.send_batch(batch, round, done).await? {
                for rest in pending.by_ref() {
                    if self.defer(&rest.retry, done).await? {
                        round.deferred += 1;
                    } else {
                        round.dropped += 1;
                    }
                }
                return Ok(());
            }
        }
    }

    /// `taken`, opened, when it may be sent now. A message with less than half its
    /// lease left is left to the outbox (due when the lease ends, rather than risk
    /// another instance sending it too); an expired or unreadable one is dropped.
    fn ready(&self, taken: Taken, round: &mut DeliveryRound, done: &mut Vec<OutboxId>) -> Option<Ready> {
        let Taken { retry, leased_until, content } = taken;
        let now = self.clock.now();
        if leased_until - now < self.policy.lease / 2 {
            tracing::warn!(outbox_id = %retry.id, "mail not sent before half its lease ran out; left to the outbox");
            return None;
        }
        if retry.expires_at <= now {
            tracing::warn!(outbox_id = %retry.id, attempts = retry.attempts, "mail expired before delivery; dropped");
            dropped("expired");
            done.push(retry.id);
            round.dropped += 1;
            return None;
        }
        let message = match content {
            Content::Open(message) => message,
            Content::Sealed(sealed) => match self.sealer.open(retry.id, &sealed) {
                Ok(message) => message,
                Err(error) => {
                    tracing::error!(outbox_id = %retry.id, %error, "queued mail cannot be opened (was SECRET_KEY changed?); dropped");
                    dropped("unreadable");
                    done.push(retry.id);
                    round.dropped += 1;
                    return None;
                }
            },
        };
        Some(Ready { retry, message })
    }

    /// Sends `batch` in one transport call and settles each message by its own result.
    /// Answers whether the transport was unavailable for any of them. A retry that
    /// cannot be scheduled does not stop the others from being settled (what was sent
    /// still leaves the outbox); its error is answered once all are.
    async fn send_batch(
        &self,
        batch: Vec<Ready>,
        round: &mut DeliveryRound,
        done: &mut Vec<OutboxId>,
    ) -> Result<bool, PortError> {
        let messages: Vec<&MailMessage> = batch.iter().map(|ready| &ready.message).collect();
        let started = std::time::Instant::now();
        let results = self.transport.send_all(&messages).await;
        let count = u32::try_from(batch.len()).unwrap_or(u32::MAX).max(1);
        self.meter.sent(started.elapsed() / count);
        // A transport that answers fewer results than messages left the rest unsent.
        let unanswered =
            std::iter::repeat_with(|| Err(PortError::unavailable("the transport gave no answer")));
        let results = results.into_iter().chain(unanswered);
        let mut down = false;
        let mut failure = None;
        for (Ready { retry, message }, sent) in batch.into_iter().zip(results) {
            let (kind, flow) = (message.kind.label(), message.kind.flow());
            match sent {
                Ok(()) => {
                    done.push(retry.id);
                    tracing::info!(outbox_id = %retry.id, kind, attempts = retry.attempts, "mail delivered");
                    metrics::counter!("otp_mail_delivered_total", "flow" => flow).increment(1);
                    round.delivered += 1;
                }
                Err(PortError::Unavailable(error)) => {
                    down = true;
                    match self.defer(&retry, done).await {
                        Ok(true) => {
                            tracing::warn!(outbox_id = %retry.id, kind, attempts = retry.attempts, %error, "mail server unavailable; will retry");
                            round.deferred += 1;
                        }
                        Ok(false) => round.dropped += 1,
                        // Left leased: it is due again when the lease ends.
                        Err(outbox) => {
                            failure.get_or_insert(outbox);
                        }
                    }
                    metrics::counter!("otp_mail_send_failures_total", "flow" => flow).increment(1);
                }
                Err(error) => {
                    tracing::error!(outbox_id = %retry.id, kind, attempts = retry.attempts, %error, "mail refused by the mail server; dropped");
                    metrics::counter!("otp_mail_send_failures_total", "flow" => flow).increment(1);
                    dropped("refused");
                    done.push(retry.id);
                    round.dropped += 1;
                }
            }
        }
        match failure {
            Some(outbox) => Err(outbox),
            None => Ok(down),
        }
    }

    /// Schedules the next try, or gives the message up (into `done`) when its attempts
    /// or its lifetime run out first. Returns whether it will be tried again.
    async fn defer(&self, retry: &Retry, done: &mut Vec<OutboxId>) -> Result<bool, PortError> {
        let next = self.clock.now() + self.policy.backoff(retry.attempts);
        if retry.attempts >= self.policy.max_attempts || next >= retry.expires_at {
            tracing::error!(outbox_id = %retry.id, attempts = retry.attempts, "mail undeliverable: retry budget spent; dropped");
            dropped("retries_exhausted");
            done.push(retry.id);
            return Ok(false);
        }
        self.outbox.retry_at(retry.id, next).await?;
        Ok(true)
    }
}
