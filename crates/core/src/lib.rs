#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod crypto;
pub mod domain;
mod error;
pub mod mail;
pub mod policy;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use domain::{ClientContext, EmailAddress, OtpCode, Password, SessionId, UserId};
pub use error::{AuthError, BoxError, PortError, ValidationError};
pub use policy::AuthPolicy;
pub use service::admin::Administrator;
pub use service::login::LoginOutcome;
pub use service::{Action, AuthService, OAuthProviders, OAuthStart, Ports, Principal, Secrets, SignedIn};
