//! The HTTP suite of `tests/api` again, scaled out as large deployments run it:
//! PostgreSQL through PgBouncer in transaction pooling mode (one PgBouncer and one
//! database per test, statement cache off, migrations on a direct connection) and a
//! Redis Cluster of three masters and three replicas (started for the run by the nextest
//! setup script `redis-cluster`; one key prefix per test), plus three instances acting
//! as one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../api/helpers.rs"]
mod helpers;

/// The adapters this binary runs the suite on.
pub const BACKEND: helpers::Backend = helpers::Backend::Scaled;

#[path = "../api/admin.rs"]
mod admin;
#[path = "../api/errors.rs"]
mod errors;
#[path = "../api/health.rs"]
mod health;
#[path = "../api/login.rs"]
mod login;
#[path = "../api/metrics.rs"]
mod metrics;
#[path = "../api/oauth.rs"]
mod oauth;
#[path = "../api/password_reset.rs"]
mod password_reset;
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

#[path = "../api_real/multi_instance.rs"]
mod multi_instance;
