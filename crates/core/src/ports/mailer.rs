use async_trait::async_trait;

use crate::domain::MailMessage;
use crate::error::PortError;

/// Delivery of messages.
///
/// An implementation MUST NOT log the code a message carries. Returning `Ok` means
/// the message is accepted for delivery: sent, written, or durably queued. The service
/// itself talks to a [`crate::mail::QueueingMailer`]; transports (SMTP, a folder) sit
/// behind the [`crate::mail::DeliveryWorker`].
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Accepts one message for delivery.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when the message could not be accepted for now
    /// (nothing was sent or queued): the delivery worker retries it later.
    /// [`PortError::Failed`] when it was refused for good (a mail server's permanent
    /// rejection): it is not retried.
    async fn send(&self, message: &MailMessage) -> Result<(), PortError>;

    /// As [`send`](Self::send), for a message `sender` (a pseudonym of the client that
    /// asked for it) caused; a queue counts it against that sender. The default ignores
    /// the sender.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    async fn send_for(&self, message: &MailMessage, sender: &str) -> Result<(), PortError> {
        let _ = sender;
        self.send(message).await
    }

    /// Accepts several messages for delivery: one result per message, in their order,
    /// each meaning what [`send`](Self::send)'s would. The default sends them one after
    /// the other; a transport that can do better (one trip to a blocking thread for a
    /// folder) overrides it, and says so with [`batch_limit`](Self::batch_limit).
    async fn send_all(&self, messages: &[&MailMessage]) -> Vec<Result<(), PortError>> {
        let mut results = Vec::with_capacity(messages.len());
        for message in messages {
            results.push(self.send(message).await);
        }
        results
    }

    /// How many messages the delivery worker hands to one [`send_all`](Self::send_all)
    /// call at most. The default, 1, suits a transport whose sends may each take long
    /// (SMTP): the worker checks each message's lease before its own send. A transport
    /// that overrides `send_all` answers more, and SHOULD finish such a call well
    /// within half a lease (a minute): the worker checks the lease before each call.
    fn batch_limit(&self) -> usize {
        1
    }

    /// Whether a code worth `lifetime` may be queued for `sender` now. A queue answers
    /// `Err(wait)` when the code would reach its owner too late, or when `sender` has
    /// too many messages queued already; `wait` says when to try again. The answer MUST
    /// NOT depend on the recipient. The default (a transport that sends at once) admits
    /// everything.
    fn admit(&self, sender: &str, lifetime: std::time::Duration) -> Result<(), std::time::Duration> {
        let _ = (sender, lifetime);
        Ok(())
    }
}

/// Turns a message into the bytes a transport delivers: rendered in the message's
/// language from the operator's or the built-in templates, with its headers, and signed
/// when signing is configured. Every transport (SMTP, the mail folder) takes one, so
/// they all deliver the same message.
///
/// An implementation MUST NOT log the code a message carries.
pub trait MailComposer: Send + Sync + std::fmt::Debug {
    /// The RFC 5322 message for `message`, dated `now`.
    ///
    /// # Errors
    /// [`PortError::Failed`] when it cannot be rendered or signed (a template that fails
    /// at run time): retrying would fail the same way.
    fn compose(&self, message: &MailMessage, now: time::OffsetDateTime) -> Result<Vec<u8>, PortError>;
}
