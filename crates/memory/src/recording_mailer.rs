//! A mailer that keeps every message, for tests and embedders.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use otp_core::domain::MailMessage;
use otp_core::ports::Mailer;
use otp_core::{EmailAddress, PortError};

use crate::lock::lock;

/// A [`Mailer`] that records messages in memory instead of sending them.
#[derive(Debug, Default)]
pub struct RecordingMailer {
    messages: Mutex<Vec<MailMessage>>,
    failing: AtomicBool,
}

impl RecordingMailer {
    /// A mailer with no messages.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<MailMessage> {
        lock(&self.messages).clone()
    }

    /// The newest message to `to`.
    pub fn last_to(&self, to: &EmailAddress) -> Option<MailMessage> {
        lock(&self.messages).iter().rev().find(|message| &message.to == to).cloned()
    }

    /// The digits of the newest message to `to` that carries a code.
    pub fn last_code_for(&self, to: &EmailAddress) -> Option<String> {
        lock(&self.messages)
            .iter()
            .rev()
            .filter(|message| &message.to == to)
            .find_map(|message| message.kind.code().map(|code| code.expose().to_owned()))
    }

    /// While `true`, `send` fails as an unreachable mail server would.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PortError::unavailable("recording mailer set to fail"));
        }
        lock(&self.messages).push(message.clone());
        Ok(())
    }
}
