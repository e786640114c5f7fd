#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod codes;
mod config;
mod connection;
mod error;
mod millis;
mod oauth_states;
mod pool;
mod probe;
mod rate_limiter;
mod revocations;
mod script;

pub use codes::RedisCodeStore;
pub use config::RedisConfig;
pub use oauth_states::RedisOAuthStateStore;
pub use pool::{RedisPool, RedisSetupError, connect};
pub use probe::RedisProbe;
pub use rate_limiter::RedisRateLimiter;
pub use revocations::{PING_EVERY, RedisRevocationChannel};
