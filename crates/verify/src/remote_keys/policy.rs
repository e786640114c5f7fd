//! How often published keys are fetched again, and how long old ones may be used.

use std::time::Duration;

use crate::error::ConfigError;

/// When a [`crate::Verifier`] fetches the keys again.
///
/// The keys are fresh for the `Cache-Control: max-age` of the answer (the server sends
/// 300 s), kept between [`min_ttl`](Self::min_ttl) and [`max_ttl`](Self::max_ttl).
/// Once stale they are still used while one background request fetches them again; if
/// that fails they remain in use for [`max_stale`](Self::max_stale), with a new try at
/// most every [`retry_after_failure`](Self::retry_after_failure). A token naming an
/// unknown key makes one fetch at most every
/// [`unknown_key_interval`](Self::unknown_key_interval), so a rotated key is picked up
/// at once and made-up key ids cannot flood the auth server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub(crate) default_ttl: Duration,
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) unknown_key_interval: Duration,
    pub(crate) retry_after_failure: Duration,
    pub(crate) timeout: Duration,
    pub(crate) max_body_bytes: usize,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            default_ttl: Duration::from_secs(300),
            min_ttl: Duration::from_secs(10),
            max_ttl: Duration::from_secs(24 * 3600),
            max_stale: Duration::from_secs(3600),
            unknown_key_interval: Duration::from_secs(10),
            retry_after_failure: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
            max_body_bytes: 64 * 1024,
        }
    }
}

impl RefreshPolicy {
    /// Freshness when the answer has no `Cache-Control: max-age` (default 300 s).
    #[must_use]
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Shortest freshness, whatever the answer says (default 10 s; `no-cache` counts as 0).
    #[must_use]
    pub fn min_ttl(mut self, ttl: Duration) -> Self {
        self.min_ttl = ttl;
        self
    }

    /// Longest freshness, whatever the answer says (default 24 h).
    #[must_use]
    pub fn max_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// How long stale keys are still used while fetching fails (default 1 h). Past it,
    /// tokens are answered with [`crate::VerifyError::KeysUnavailable`].
    #[must_use]
    pub fn max_stale(mut self, stale: Duration) -> Self {
        self.max_stale = stale;
        self
    }

    /// Least time between two fetches caused by unknown key ids (default 10 s).
    #[must_use]
    pub fn unknown_key_interval(mut self, interval: Duration) -> Self {
        self.unknown_key_interval = interval;
        self
    }

    /// Least time between a failed fetch and the next try (default 5 s).
    #[must_use]
    pub fn retry_after_failure(mut self, wait: Duration) -> Self {
        self.retry_after_failure = wait;
        self
    }

    /// How long one fetch may take, connecting included (default 5 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The freshness of an answer that declared `declared` (from its headers).
    pub(crate) fn ttl(&self, declared: Option<Duration>) -> Duration {
        declared.unwrap_or(self.default_ttl).clamp(self.min_ttl, self.max_ttl)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.min_ttl > self.max_ttl {
            return Err(ConfigError::OutOfRange("the keys' min_ttl must not exceed max_ttl"));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::OutOfRange("the keys' fetch timeout must be positive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_freshness_is_clamped() {
        let policy = RefreshPolicy::default();
        assert_eq!(policy.ttl(Some(Duration::from_secs(300))), Duration::from_secs(300));
        assert_eq!(policy.ttl(None), Duration::from_secs(300));
        assert_eq!(policy.ttl(Some(Duration::ZERO)), Duration::from_secs(10));
        assert_eq!(policy.ttl(Some(Duration::from_secs(u64::MAX / 4))), Duration::from_secs(86400));
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let policy =
            RefreshPolicy::default().min_ttl(Duration::from_secs(10)).max_ttl(Duration::from_secs(5));
        assert!(policy.validate().is_err());
        assert!(RefreshPolicy::default().timeout(Duration::ZERO).validate().is_err());
        assert!(RefreshPolicy::default().validate().is_ok());
    }
}
