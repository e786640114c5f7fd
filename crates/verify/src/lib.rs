#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod bearer;
#[cfg(feature = "fetch")]
mod cache_control;
mod claims;
mod error;
#[cfg(feature = "fetch")]
mod http;
#[cfg(feature = "fetch")]
mod introspection;
mod keys;
#[cfg(any(feature = "actix", feature = "axum"))]
mod rejection;
#[cfg(feature = "fetch")]
mod remote_keys;
mod token;
#[cfg(any(feature = "actix", feature = "axum"))]
mod verified_user;
mod verifier;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;

pub use bearer::bearer_token;
pub use claims::{ADMIN_ROLE, Claims};
pub use error::{ConfigError, FetchError, VerifyError};
#[cfg(feature = "fetch")]
pub use introspection::{FailureMode, INTROSPECTION_PATH, Introspection};
pub use keys::{KeySet, PublicKey};
#[cfg(any(feature = "actix", feature = "axum"))]
pub use rejection::{PROBLEM_JSON, Rejection};
#[cfg(feature = "fetch")]
pub use remote_keys::RefreshPolicy;
pub use token::MAX_TOKEN_BYTES;
#[cfg(any(feature = "actix", feature = "axum"))]
pub use verified_user::VerifiedUser;
pub use verifier::{DEFAULT_LEEWAY, MAX_LEEWAY, Verifier, VerifierBuilder};
