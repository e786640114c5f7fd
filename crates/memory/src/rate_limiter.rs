//! Sliding-window rate limiting in process memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::ports::{RateDecision, RateLimit, RateLimiter};
use time::OffsetDateTime;

use crate::lock::lock;

#[derive(Debug, Default)]
struct Windows {
    hits: HashMap<String, VecDeque<OffsetDateTime>>,
    calls_since_sweep: usize,
}

/// In-memory [`RateLimiter`] keeping the time of each counted hit per key (at most
/// `max` per key). Limits hold for one process only: instances behind a load balancer
/// need a shared limiter.
#[derive(Debug, Default)]
pub struct MemoryRateLimiter {
    windows: Mutex<Windows>,
}

impl MemoryRateLimiter {
    /// A limiter with no hits counted.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn hit(&self, key: &str, limit: RateLimit, now: OffsetDateTime) -> Result<RateDecision, PortError> {
        let mut windows = lock(&self.windows);
        windows.calls_since_sweep += 1;
        if windows.calls_since_sweep >= 4096 {
            // Hits older than a day are outside every window the policy allows.
            let horizon = now - time::Duration::days(1);
            windows.hits.retain(|_, hits| hits.back().is_some_and(|last| *last > horizon));
            windows.calls_since_sweep = 0;
        }
        let hits = windows.hits.entry(key.to_owned()).or_default();
        let window_start = now - limit.window;
        while hits.front().is_some_and(|oldest| *oldest <= window_start) {
            hits.pop_front();
        }
        if hits.len() >= limit.max as usize {
            let oldest = hits.front().copied().unwrap_or(now);
            let retry_after = (oldest + limit.window - now).unsigned_abs();
            return Ok(RateDecision::Limited { retry_after });
        }
        hits.push_back(now);
        Ok(RateDecision::Allowed)
    }
}
