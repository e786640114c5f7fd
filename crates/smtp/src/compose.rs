//! The RFC 5322 message: headers, and a multipart/alternative body (text + HTML).

use mail_send::mail_builder::MessageBuilder;
use mail_send::mail_builder::headers::message_id::MessageId;
use mail_send::mail_builder::headers::text::Text;
use otp_core::domain::MailMessage;

use crate::config::SmtpConfig;
use crate::render::render;

/// The bytes of `message` as sent: `From` (product name and `FROM_EMAIL`), `To`,
/// `Subject`, a fresh `Message-ID` in the sender's domain, `Date`, `Auto-Submitted`, and
/// both bodies.
pub(crate) fn compose(config: &SmtpConfig, message: &MailMessage, now_unix: i64) -> Result<Vec<u8>, String> {
    let rendered = render(message, &config.product).map_err(|error| format!("rendering mail: {error}"))?;
    let domain = config.from_address.rsplit_once('@').map_or("localhost", |(_, domain)| domain);
    MessageBuilder::new()
        .from((config.product.as_str(), config.from_address.as_str()))
        .to(message.to.as_str())
        .subject(rendered.subject)
        .message_id(MessageId::new(format!("{}@{domain}", uuid::Uuid::new_v4().simple())))
        .date(now_unix)
        // RFC 3834: automatic mail; well-behaved auto-responders do not answer it.
        .header("Auto-Submitted", Text::new("auto-generated"))
        .text_body(rendered.text)
        .html_body(rendered.html)
        .write_to_vec()
        .map_err(|error| format!("writing mail: {error}"))
}
