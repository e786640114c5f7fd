use async_trait::async_trait;

use crate::domain::MailMessage;
use crate::error::PortError;

/// Delivery of messages.
///
/// An implementation MUST NOT log the code a message carries. Returning `Ok` means
/// the message is accepted for delivery: sent, written, or durably queued.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Accepts one message for delivery.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when the message could not be accepted (nothing was
    /// queued); the caller may retry.
    async fn send(&self, message: &MailMessage) -> Result<(), PortError>;
}
