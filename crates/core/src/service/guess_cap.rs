//! The daily cap on code guesses per address from clients without one of the
//! account's remembered devices: a small value the sign-in service holds.

use std::sync::Arc;
use std::time::Duration;

use crate::crypto::KeyedHasher;
use crate::domain::EmailAddress;
use crate::error::Failure;
use crate::policy::AuthPolicy;
use crate::ports::{Clock, RateDecision, RateLimit, RateLimiter};

/// The window the cap counts over.
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Counts code checks per address in a sliding day, on the rate limiter (so every
/// instance shares the count).
#[derive(Debug, Clone)]
pub struct GuessCap {
    limiter: Arc<dyn RateLimiter>,
    clock: Arc<dyn Clock>,
    hasher: KeyedHasher,
    cap: u32,
}

impl GuessCap {
    /// A cap of the policy's `max_code_failures_per_day` on `limiter`.
    pub fn new(
        limiter: Arc<dyn RateLimiter>,
        clock: Arc<dyn Clock>,
        hasher: KeyedHasher,
        policy: &AuthPolicy,
    ) -> Self {
        Self { limiter, clock, hasher, cap: policy.max_code_failures_per_day }
    }

    /// Counts one code check for `email` before it is made. Every check counts, a
    /// right one too, so no more than the cap of wrong guesses can ever be made in a
    /// day. Returns `None` when the check may go ahead, or how long until it may when
    /// the address is locked (nothing is counted then).
    ///
    /// # Errors
    /// A limiter failure.
    pub async fn spend(&self, email: &EmailAddress) -> Result<Option<Duration>, Failure> {
        let key = format!("email:code_guesses:{}", self.hasher.email_digest(email));
        let limit = RateLimit { max: self.cap, window: DAY };
        match self.limiter.hit(&key, limit, self.clock.now()).await? {
            RateDecision::Allowed => Ok(None),
            RateDecision::Limited { retry_after } => {
                metrics::counter!("otp_code_guesses_locked_total").increment(1);
                Ok(Some(retry_after.max(Duration::from_secs(1))))
            }
        }
    }

    /// Whether this is the first lock of `email` in a day: the owner is told once.
    ///
    /// # Errors
    /// A limiter failure.
    pub async fn first_lock_today(&self, email: &EmailAddress) -> Result<bool, Failure> {
        let key = format!("email:code_lock_notice:{}", self.hasher.email_digest(email));
        let decision = self.limiter.hit(&key, RateLimit { max: 1, window: DAY }, self.clock.now()).await?;
        Ok(decision == RateDecision::Allowed)
    }
}
