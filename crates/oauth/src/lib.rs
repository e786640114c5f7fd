#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod endpoint;
mod error;
mod github;
mod google;
mod http;
mod id_token;
mod jwks;
#[cfg(feature = "testing")]
pub mod testing;
mod token;

pub use endpoint::check_redirect_uri;
pub use error::OAuthSetupError;
pub use github::{GITHUB, GitHubConfig, GitHubProvider};
pub use google::{GOOGLE, GoogleConfig, GoogleProvider};
pub use http::{HttpError, HttpLimits, MAX_RESPONSE_BYTES};

/// The providers this crate implements, by name.
pub const PROVIDERS: [&str; 2] = [GOOGLE, GITHUB];
