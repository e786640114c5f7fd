//! HTTP tests: each starts the real server on port 0 and talks to it over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

/// The adapters this binary runs the suite on.
pub const BACKEND: helpers::Backend = helpers::Backend::Memory;

mod account;
mod admin;
mod claims;
mod errors;
mod health;
mod introspection;
mod languages;
mod load_shedding;
mod login;
mod metrics;
mod oauth;
mod password_reset;
mod password_strength;
mod passwordless;
mod rate_limits;
mod registration;
mod security;
mod sessions;
mod tokens;
mod webhooks;
