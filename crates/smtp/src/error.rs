/// Why the SMTP mailer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// A setting is invalid.
    #[error("{0}")]
    Config(String),
    /// The trusted certificates could not be loaded.
    #[error("SMTP TLS set-up: {0}")]
    Tls(String),
}
