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

    /// Counts one hit on each of `hits` in turn at `now`, exactly as [`RateLimiter::hit`]
    /// would one after the other, stopping at the first key that is limited: the hits
    /// counted on the keys before it stay counted, the keys after it are not touched.
    /// Returns the decisions made, one per key up to and including the limited one.
    /// Adapters that can do it in one round trip override the default, which calls
    /// [`RateLimiter::hit`] per key ([`hit_in_turn`]).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn hit_each(
        &self,
        hits: &[(&str, RateLimit)],
        now: OffsetDateTime,
    ) -> Result<Vec<RateDecision>, PortError> {
        hit_in_turn(self, hits, now).await
    }
}

/// [`RateLimiter::hit_each`] by one [`RateLimiter::hit`] per key: the default, and
/// what adapters fall back on when they cannot do it at once.
///
/// # Errors
/// The first error of a hit.
pub async fn hit_in_turn<L: RateLimiter + ?Sized>(
    limiter: &L,
    hits: &[(&str, RateLimit)],
    now: OffsetDateTime,
) -> Result<Vec<RateDecision>, PortError> {
    let mut decisions = Vec::with_capacity(hits.len());
    for (key, limit) in hits {
        let decision = limiter.hit(key, *limit, now).await?;
        decisions.push(decision);
        if decision != RateDecision::Allowed {
            break;
        }
    }
    Ok(decisions)
}
