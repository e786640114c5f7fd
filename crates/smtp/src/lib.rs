#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod config;
mod connection;
mod error;
mod mailer;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;

pub use config::{SmtpConfig, SmtpCredentials, TlsMode};
pub use error::SmtpError;
pub use mailer::SmtpMailer;
