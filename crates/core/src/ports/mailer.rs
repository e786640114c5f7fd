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
