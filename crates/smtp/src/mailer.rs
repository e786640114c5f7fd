//! The [`Mailer`] that sends over SMTP, reusing connections across messages.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mail_send::SmtpClientBuilder;
use mail_send::smtp::message::Message;
use otp_core::PortError;
use otp_core::domain::MailMessage;
use otp_core::ports::{MailComposer, Mailer};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::config::{SmtpConfig, TlsMode};
use crate::connection::{Client, Idle};
use crate::error::SmtpError;
use crate::tls::connector;

/// A connection idle longer than this is closed and replaced rather than reused: mail
/// servers drop idle clients after a while, and a dead connection would cost a failed try.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// Sends mail through one SMTP server. Each concurrent send (one per delivery loop,
/// `MAIL_WORKERS`) takes an idle connection if there is one, or opens one; after the
/// message it is kept for the next send. A connection is replaced when it has been idle
/// too long or fails.
///
/// Errors map onto the [`Mailer`] contract: a permanent refusal (a 5xx reply other than
/// an authentication problem) is [`PortError::Failed`], not retried; everything else
/// (refused or timed-out connections, TLS failures, 4xx replies, bad credentials) is
/// [`PortError::Unavailable`], retried by the delivery worker.
pub struct SmtpMailer {
    config: SmtpConfig,
    composer: Arc<dyn MailComposer>,
    builder: SmtpClientBuilder<String>,
    idle: Mutex<Vec<Idle>>,
}

impl SmtpMailer {
    /// A mailer for `config`, sending what `composer` makes (rendered, with headers,
    /// signed). Nothing connects until the first message.
    ///
    /// # Errors
    /// [`SmtpError`] when the trusted certificates cannot be loaded.
    pub fn new(config: SmtpConfig, composer: Arc<dyn MailComposer>) -> Result<Self, SmtpError> {
        if !config.from_address.contains('@') {
            return Err(SmtpError::Config(format!("FROM_EMAIL {:?} is not an address", config.from_address)));
        }
        let mut builder =
            SmtpClientBuilder::new_with_tls_connector(config.host.clone(), config.port, connector(&config)?)
                .implicit_tls(config.tls == TlsMode::Implicit)
                .timeout(config.timeout);
        if let Some(credentials) = &config.credentials {
            builder = builder.credentials(mail_send::Credentials::Plain {
                username: credentials.username.clone(),
                secret: credentials.password.expose_secret().to_owned(),
            });
        }
        Ok(Self { config, composer, builder, idle: Mutex::new(Vec::new()) })
    }

    /// Opens a connection, bounded as a whole: mail-send bounds only the TCP connect of
    /// a plain connection, not the greeting or EHLO after it.
    async fn connect(&self) -> mail_send::Result<Client> {
        let connecting = async {
            match self.config.tls {
                TlsMode::None => self.builder.connect_plain().await.map(Client::Plain),
                TlsMode::StartTls | TlsMode::Implicit => {
                    self.builder.connect().await.map(|client| Client::Tls(Box::new(client)))
                }
            }
        };
        tokio::time::timeout(self.config.timeout, connecting).await.map_err(|_| mail_send::Error::Timeout)?
    }

    /// Sends on `client`, bounded as a whole (each reply is bounded by the client, but
    /// a server that stops reading the body is not).
    async fn send_on(&self, client: &mut Client, message: Message<'_>) -> mail_send::Result<()> {
        let bound = self.config.timeout.saturating_mul(3);
        tokio::time::timeout(bound, client.send(message)).await.map_err(|_| mail_send::Error::Timeout)?
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        let body = self.composer.compose(message, time::OffsetDateTime::now_utc())?;
        let envelope =
            Message::new(self.config.from_address.as_str(), [message.to.as_str()], body.as_slice());
        // The most recently used connection first: the least likely to be stale.
        let reused = self.idle.lock().await.pop();
        if let Some(Idle { mut client, since }) = reused {
            if since.elapsed() < MAX_IDLE {
                match self.send_on(&mut client, envelope.clone()).await {
                    Ok(()) => {
                        self.idle.lock().await.push(Idle { client, since: Instant::now() });
                        return Ok(());
                    }
                    Err(error) if is_permanent(&error) => return Err(PortError::failed(describe(&error))),
                    // The kept connection was stale: try once more on a fresh one.
                    Err(error) => tracing::debug!(error = %describe(&error), "reused SMTP connection failed"),
                }
            } else {
                client.quit().await;
            }
        }
        let mut client = self.connect().await.map_err(|error| classify(&error))?;
        tracing::debug!(host = %self.config.host, port = self.config.port, "SMTP connection opened");
        self.send_on(&mut client, envelope).await.map_err(|error| classify(&error))?;
        self.idle.lock().await.push(Idle { client, since: Instant::now() });
        Ok(())
    }
}

fn is_permanent(error: &mail_send::Error) -> bool {
    match error {
        // 530, 534, 535, 538: authentication problems are configuration, not the
        // message's fault: retry once the operator fixes them.
        mail_send::Error::UnexpectedReply(reply) => {
            (500..600).contains(&reply.code) && !matches!(reply.code, 530 | 534 | 535 | 538)
        }
        _ => false,
    }
}

fn classify(error: &mail_send::Error) -> PortError {
    if is_permanent(error) {
        PortError::failed(describe(error))
    } else {
        PortError::unavailable(describe(error))
    }
}

/// The error in words, with the server's reply where there is one (a reply never holds
/// the message body, so never a code).
fn describe(error: &mail_send::Error) -> String {
    match error {
        mail_send::Error::AuthenticationFailed(reply) => {
            format!("SMTP authentication failed (check SMTP_USERNAME and SMTP_PASSWORD): {reply}")
        }
        mail_send::Error::MissingStartTls => {
            "the mail server does not offer STARTTLS (set SMTP_TLS=implicit or none to match it)".to_owned()
        }
        other => format!("SMTP: {other}"),
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.config.host)
            .field("port", &self.config.port)
            .field("tls", &self.config.tls)
            .field("auth", &self.config.credentials.as_ref().map(|credentials| &credentials.username))
            .finish_non_exhaustive()
    }
}
