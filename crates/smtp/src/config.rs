//! How to reach the mail server and what to put in the envelope.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

use crate::SmtpError;

/// How the connection to the mail server is protected (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS; refused if the server does not offer it
    /// (`starttls`, usually port 587).
    StartTls,
    /// TLS from the first byte (`implicit`, usually port 465).
    Implicit,
    /// No encryption (`none`): only for a relay on the same host or a test server.
    None,
}

impl FromStr for TlsMode {
    type Err = SmtpError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(Self::StartTls),
            "implicit" | "tls" => Ok(Self::Implicit),
            "none" | "plain" => Ok(Self::None),
            other => {
                Err(SmtpError::Config(format!("SMTP_TLS must be starttls, implicit or none, not {other:?}")))
            }
        }
    }
}

/// Credentials for SMTP AUTH (`SMTP_USERNAME`, `SMTP_PASSWORD`).
#[derive(Debug, Clone)]
pub struct SmtpCredentials {
    /// The user name.
    pub username: String,
    /// The password (never logged).
    pub password: SecretString,
}

/// Everything the SMTP mailer needs.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The mail server's host name (also the name its certificate must carry).
    pub host: String,
    /// The mail server's port.
    pub port: u16,
    /// How the connection is protected.
    pub tls: TlsMode,
    /// AUTH credentials, when the server needs them.
    pub credentials: Option<SmtpCredentials>,
    /// Bound on connecting (TCP, TLS, greeting, EHLO, AUTH) and on each reply.
    pub timeout: Duration,
    /// The sender address (`FROM_EMAIL`).
    pub from_address: String,
    /// A PEM file of the certificate authorities to trust instead of the system's
    /// (`SMTP_CA_FILE`), for a private mail server.
    pub ca_file: Option<PathBuf>,
}

impl SmtpConfig {
    /// A configuration with the defaults for everything but the server and sender:
    /// STARTTLS, no AUTH, a 10-second time-out.
    pub fn new(host: impl Into<String>, port: u16, from_address: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port,
            tls: TlsMode::StartTls,
            credentials: None,
            timeout: Duration::from_secs(10),
            from_address: from_address.into(),
            ca_file: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse_from_their_names() {
        assert_eq!("starttls".parse::<TlsMode>().unwrap(), TlsMode::StartTls);
        assert_eq!("IMPLICIT".parse::<TlsMode>().unwrap(), TlsMode::Implicit);
        assert_eq!(" none ".parse::<TlsMode>().unwrap(), TlsMode::None);
        assert!("ssl3".parse::<TlsMode>().is_err());
    }
}
