//! One SMTP connection, plain or TLS, kept open between messages.

use std::time::Instant;

use mail_send::SmtpClient;
use mail_send::smtp::message::Message;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub(crate) enum Client {
    // Boxed: a TLS client is over a kilobyte, a plain one a few words.
    Tls(Box<SmtpClient<TlsStream<TcpStream>>>),
    Plain(SmtpClient<TcpStream>),
}

impl Client {
    pub(crate) async fn send(&mut self, message: Message<'_>) -> mail_send::Result<()> {
        match self {
            Self::Tls(client) => client.send(message).await.map(drop),
            Self::Plain(client) => client.send(message).await.map(drop),
        }
    }

    pub(crate) async fn quit(self) {
        // A polite goodbye; the connection is dropped either way.
        let _ = match self {
            Self::Tls(client) => client.quit().await,
            Self::Plain(client) => client.quit().await,
        };
    }
}

/// A connection waiting for the next message.
pub(crate) struct Idle {
    pub(crate) client: Client,
    pub(crate) since: Instant,
}
