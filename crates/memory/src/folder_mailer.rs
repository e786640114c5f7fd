//! A mailer that writes each message as an `.eml` file into a folder.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use otp_core::PortError;
use otp_core::domain::MailMessage;
use otp_core::ports::{Mailer, Probe};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use uuid::Uuid;

/// A [`Mailer`] for development: each message becomes one RFC 5322 file in a folder,
/// named so that the newest sorts last (`<UTC nanoseconds>-<sequence>-<kind>.eml`).
/// Files are written under a temporary name and renamed, so a reader never sees a
/// partial message. One log line per message gives the file's path, never the code.
#[derive(Debug)]
pub struct FolderMailer {
    dir: PathBuf,
    from: String,
    product: String,
    sequence: AtomicU64,
}

impl FolderMailer {
    /// A mailer writing into `dir` (created if missing), with `from` as sender and
    /// `product` named in subjects and bodies.
    ///
    /// # Errors
    /// When `dir` cannot be created.
    pub fn new(dir: impl Into<PathBuf>, from: &str, product: &str) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, from: from.to_owned(), product: product.to_owned(), sequence: AtomicU64::new(0) })
    }

    /// The folder messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn render(&self, message: &MailMessage, now: OffsetDateTime) -> String {
        let domain = self.from.rsplit_once('@').map_or("localhost", |(_, domain)| domain);
        let date = now.format(&Rfc2822).unwrap_or_default();
        let subject = encode_header(&message.subject(&self.product));
        let body = message.text_body(&self.product).replace('\n', "\r\n");
        format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}@{domain}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nX-OTP-Kind: {kind}\r\n\r\n{body}",
            from = self.from,
            to = message.to,
            id = Uuid::new_v4(),
            kind = message.kind.label(),
        )
    }
}

fn encode_header(text: &str) -> String {
    if text.is_ascii() { text.to_owned() } else { format!("=?utf-8?b?{}?=", STANDARD.encode(text)) }
}

#[async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        let now = OffsetDateTime::now_utc();
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let name = format!("{:020}-{sequence:06}-{}.eml", now.unix_timestamp_nanos(), message.kind.label());
        let path = self.dir.join(&name);
        let partial = self.dir.join(format!(".{name}.partial"));
        let text = self.render(message, now);
        let written = async {
            tokio::fs::write(&partial, text).await?;
            tokio::fs::rename(&partial, &path).await
        };
        written
            .await
            .map_err(|error| PortError::unavailable(format!("writing {}: {error}", path.display())))?;
        tracing::info!(path = %path.display(), kind = message.kind.label(), "mail written");
        Ok(())
    }
}

#[async_trait]
impl Probe for FolderMailer {
    fn name(&self) -> &str {
        "mail"
    }

    async fn check(&self) -> Result<(), PortError> {
        match tokio::fs::metadata(&self.dir).await {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(PortError::unavailable(format!("{} is not a folder", self.dir.display()))),
            Err(error) => Err(PortError::unavailable(format!("{}: {error}", self.dir.display()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use otp_core::domain::MailKind;
    use otp_core::{EmailAddress, OtpCode};

    use super::*;

    #[tokio::test]
    async fn writes_one_well_formed_file_per_message_newest_last() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = FolderMailer::new(dir.path().join("mail"), "auth@example.com", "Acme ✓").unwrap();
        let to = EmailAddress::parse("ann@example.com").unwrap();
        for digits in ["111111", "222222"] {
            let code = OtpCode::parse(digits, 6).unwrap();
            let kind = MailKind::SignInCode { code, expires_in: Duration::from_secs(300) };
            mailer.send(&MailMessage { to: to.clone(), kind }).await.unwrap();
        }
        let mut names: Vec<_> = std::fs::read_dir(mailer.dir())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        let newest = std::fs::read_to_string(mailer.dir().join(&names[1])).unwrap();
        assert!(newest.contains("222222"));
        assert!(newest.contains("To: ann@example.com\r\n"));
        assert!(newest.contains("Subject: =?utf-8?b?"));
        assert!(newest.contains("Message-ID: <"));
        let (headers, body) = newest.split_once("\r\n\r\n").unwrap();
        assert!(headers.lines().all(|line| line.contains(": ")));
        assert!(body.contains("5 minutes"));
    }

    #[tokio::test]
    async fn reports_an_unwritable_folder_as_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = FolderMailer::new(dir.path().join("mail"), "auth@example.com", "Acme").unwrap();
        std::fs::remove_dir(mailer.dir()).unwrap();
        let to = EmailAddress::parse("ann@example.com").unwrap();
        let error = mailer.send(&MailMessage { to, kind: MailKind::AccountExists }).await.unwrap_err();
        assert!(matches!(error, PortError::Unavailable(_)));
    }
}
