use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::PortError;

/// At most `max` hits in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Hits allowed per window.
    pub max: u32,
    /// Length of the sliding window.
    pub window: Duration,
}

/// What [`RateLimiter::hit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// The hit was counted.
    Allowed,
    /// The limit is reached; the hit was not counted.
    Limited {
        /// Time until the oldest counted hit leaves the window.
        retry_after: Duration,
    },
}

/// Sliding-window rate limiting by opaque key.
///
/// Keys are built by the domain and never contain an address in clear. Decisions are
/// atomic across all processes sharing the limiter: `max` concurrent hits on a fresh
/// key are all allowed and the next is limited.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Counts one hit on `key` at `now` if fewer than `limit.max` hits were counted in
    /// the window ending at `now`; otherwise counts nothing and says how long to wait.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn hit(&self, key: &str, limit: RateLimit, now: OffsetDateTime) -> Result<RateDecision, PortError>;
}
