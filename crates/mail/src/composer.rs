//! The message as sent: rendered bodies, headers, and a DKIM signature.

use std::sync::Arc;

use mail_builder::MessageBuilder;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::text::Text;
use otp_core::PortError;
use otp_core::domain::MailMessage;
use otp_core::ports::MailComposer;
use time::OffsetDateTime;

use crate::dkim::DkimSigner;
use crate::error::MailError;
use crate::renderer::MailRenderer;

/// Who the mail comes from, and how it is signed.
#[derive(Debug)]
pub struct ComposerConfig {
    /// The sender address (`FROM_EMAIL`); its domain names the `Message-ID`s.
    pub from_address: String,
    /// The sender's display name (`APP_NAME`).
    pub from_name: String,
    /// Signs every message when set (`DKIM_*`).
    pub dkim: Option<DkimSigner>,
}

/// The [`MailComposer`] every transport uses: a multipart/alternative message (text and
/// HTML) with `From`, `To`, `Subject`, `Date`, a fresh `Message-ID`,
/// `Auto-Submitted: auto-generated` (RFC 3834: auto-responders stay quiet) and
/// `Content-Language`; no tracking pixel, no rewritten links. DKIM-signed when configured.
#[derive(Debug, Clone)]
pub struct Composer {
    renderer: Arc<MailRenderer>,
    config: Arc<ComposerConfig>,
}

impl Composer {
    /// A composer rendering with `renderer`.
    ///
    /// # Errors
    /// [`MailError::Compose`] when the sender is not an address.
    pub fn new(renderer: Arc<MailRenderer>, config: ComposerConfig) -> Result<Self, MailError> {
        if !config.from_address.contains('@') {
            return Err(MailError::Compose(format!(
                "FROM_EMAIL {:?} is not an address",
                config.from_address
            )));
        }
        Ok(Self { renderer, config: Arc::new(config) })
    }

    /// The renderer.
    pub fn renderer(&self) -> &MailRenderer {
        &self.renderer
    }

    /// The bytes of `message`, dated `now`.
    ///
    /// # Errors
    /// [`MailError`] when rendering or signing fails.
    pub fn message_bytes(&self, message: &MailMessage, now: OffsetDateTime) -> Result<Vec<u8>, MailError> {
        let rendered = self.renderer.render(message)?;
        let from = self.config.from_address.as_str();
        let domain = from.rsplit_once('@').map_or("localhost", |(_, domain)| domain);
        let bytes = MessageBuilder::new()
            .from((self.config.from_name.as_str(), from))
            .to(message.to.as_str())
            .subject(rendered.subject)
            .message_id(MessageId::new(format!("{}@{domain}", uuid::Uuid::new_v4().simple())))
            .date(now.unix_timestamp())
            .header("Auto-Submitted", Text::new("auto-generated"))
            .header("Content-Language", Text::new(rendered.language))
            .text_body(rendered.text)
            .html_body(rendered.html)
            .write_to_vec()
            .map_err(|error| MailError::Compose(error.to_string()))?;
        match &self.config.dkim {
            Some(signer) => signer.sign(&bytes),
            None => Ok(bytes),
        }
    }
}

impl MailComposer for Composer {
    fn compose(&self, message: &MailMessage, now: OffsetDateTime) -> Result<Vec<u8>, PortError> {
        self.message_bytes(message, now).map_err(PortError::failed)
    }
}
