#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod crypto;
pub mod domain;
mod error;
pub mod events;
pub mod import;
pub mod mail;
pub mod policy;
pub mod ports;
pub mod service;
#[cfg(feature = "testing")]
pub mod testing;

pub use domain::{ClientContext, EmailAddress, OtpCode, Password, SessionId, UserId};
pub use error::{BoxError, Failure, PortError, ValidationError};
pub use policy::{AuthPolicy, PolicyError, TokenCachePolicy};
pub use service::{
    AccountError, AccountService, AdminError, AdminService, Administrator, Introspection, LoginOutcome,
    OAuthProviders, OAuthSignIn, OAuthSignInError, OAuthStart, Principal, Secrets, ServiceCaller, Services,
    SessionError, SessionService, SignInError, SignInService, SignedIn, Stores,
};
