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

    /// How long a message accepted now would wait before it goes out, when this mailer
    /// knows (a queue that measures its delivery rate); `None` when it does not (the
    /// default: a transport that sends at once).
    fn expected_delay(&self) -> Option<std::time::Duration> {
        None
    }
}
