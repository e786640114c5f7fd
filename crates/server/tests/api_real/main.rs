//! The HTTP suite of `tests/api` again, on real PostgreSQL and Redis (each test with its
//! own database and key prefix), plus tests only a shared store can pass: several
//! instances acting as one, and outages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../api/helpers.rs"]
mod helpers;

/// The adapters this binary runs the suite on.
pub const BACKEND: helpers::Backend = helpers::Backend::Real;

#[path = "../api/account.rs"]
mod account;
#[path = "../api/admin.rs"]
mod admin;
#[path = "../api/errors.rs"]
mod errors;
#[path = "../api/health.rs"]
mod health;
#[path = "../api/languages.rs"]
mod languages;
#[path = "../api/load_shedding.rs"]
mod load_shedding;
#[path = "../api/login.rs"]
mod login;
#[path = "../api/metrics.rs"]
mod metrics;
#[path = "../api/oauth.rs"]
mod oauth;
#[path = "../api/password_reset.rs"]
mod password_reset;
#[path = "../api/password_strength.rs"]
mod password_strength;
#[path = "../api/passwordless.rs"]
mod passwordless;
#[path = "../api/rate_limits.rs"]
mod rate_limits;
#[path = "../api/registration.rs"]
mod registration;
#[path = "../api/security/mod.rs"]
mod security;
#[path = "../api/sessions.rs"]
mod sessions;
#[path = "../api/tokens.rs"]
mod tokens;
#[path = "../api/webhooks.rs"]
mod webhooks;

mod deletion_race;
mod multi_instance;
mod outage;
mod revocation_push;
