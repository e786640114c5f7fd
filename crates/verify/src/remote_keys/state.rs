//! The cache of fetched keys as a state machine over explicit instants: what a lookup
//! does (use, refresh in the background, wait for a fetch, refuse) and what a finished
//! fetch changes. No I/O, so every rule is tested without sleeping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::policy::RefreshPolicy;
use crate::error::FetchError;
use crate::keys::{KeySet, PublicKey};
use crate::token::Expectations;

/// One successful fetch.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) keys: KeySet,
    pub(crate) expected: Expectations,
    fresh_until: Instant,
    usable_until: Instant,
}

impl Snapshot {
    pub(crate) fn new(
        keys: KeySet,
        expected: Expectations,
        fetched: Instant,
        ttl: Duration,
        policy: &RefreshPolicy,
    ) -> Self {
        let fresh_until = fetched + ttl;
        Self { keys, expected, fresh_until, usable_until: fresh_until + policy.max_stale }
    }
}

/// What a lookup should do next.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Use this key; when `refresh` is set, the caller starts the one background fetch.
    Found { key: PublicKey, snapshot: Arc<Snapshot>, refresh: bool, after_attempt: u64 },
    /// No such key, and no fetch is allowed now.
    Unknown,
    /// Wait for the result of a fetch completing after attempt `after_attempt`; make it
    /// only if `may_fetch` (otherwise just wait for the one already running).
    Fetch { after_attempt: u64, may_fetch: bool },
    /// No usable keys and no fetch is allowed now.
    Unavailable(Arc<FetchError>),
}

/// What the verifier knows about the published keys.
#[derive(Debug)]
pub(crate) struct KeyCache {
    snapshot: Option<Arc<Snapshot>>,
    attempts: u64,
    last_error: Option<Arc<FetchError>>,
    retry_at: Option<Instant>,
    unknown_key_fetch_at: Option<Instant>,
    pending: bool,
    url: String,
}

impl KeyCache {
    pub(crate) fn new(url: String) -> Self {
        Self {
            snapshot: None,
            attempts: 0,
            last_error: None,
            retry_at: None,
            unknown_key_fetch_at: None,
            pending: false,
            url,
        }
    }

    /// Decides what a lookup of `kid` at `now` does, and notes a fetch it schedules.
    pub(crate) fn plan(&mut self, kid: &str, now: Instant, policy: &RefreshPolicy) -> Plan {
        let may_attempt = self.retry_at.is_none_or(|at| now >= at);
        let usable = self.snapshot.as_ref().filter(|snapshot| now < snapshot.usable_until).cloned();
        let Some(snapshot) = usable else {
            // Without usable keys every lookup waits for a fetch: the one running, or
            // its own (the fetch lock lets only one run; the others take its outcome).
            if may_attempt || self.pending {
                return Plan::Fetch { after_attempt: self.attempts, may_fetch: may_attempt };
            }
            return Plan::Unavailable(self.backing_off());
        };
        if let Some(key) = snapshot.keys.find(kid).cloned() {
            let refresh = now >= snapshot.fresh_until && may_attempt && !self.pending;
            self.pending |= refresh;
            return Plan::Found { key, snapshot, refresh, after_attempt: self.attempts };
        }
        if self.pending {
            return Plan::Fetch { after_attempt: self.attempts, may_fetch: false };
        }
        if may_attempt && self.unknown_key_fetch_at.is_none_or(|at| now >= at) {
            self.unknown_key_fetch_at = Some(now + policy.unknown_key_interval);
            return Plan::Fetch { after_attempt: self.attempts, may_fetch: true };
        }
        Plan::Unknown
    }

    fn backing_off(&self) -> Arc<FetchError> {
        self.last_error.clone().unwrap_or_else(|| Arc::new(FetchError::BackingOff { url: self.url.clone() }))
    }

    /// How many fetch attempts have finished.
    pub(crate) fn attempts(&self) -> u64 {
        self.attempts
    }

    /// Notes that a fetch is running (or no longer running, when it was abandoned).
    pub(crate) fn set_pending(&mut self, pending: bool) {
        self.pending = pending;
    }

    /// Notes a finished fetch.
    pub(crate) fn record(
        &mut self,
        result: Result<Snapshot, FetchError>,
        now: Instant,
        policy: &RefreshPolicy,
    ) {
        self.attempts += 1;
        self.pending = false;
        match result {
            Ok(snapshot) => {
                self.snapshot = Some(Arc::new(snapshot));
                self.last_error = None;
                self.retry_at = None;
            }
            Err(error) => {
                self.last_error = Some(Arc::new(error));
                self.retry_at = Some(now + policy.retry_after_failure);
            }
        }
    }

    /// The outcome of the latest fetch, if one finished after attempt `after_attempt`.
    pub(crate) fn outcome_since(&self, after_attempt: u64) -> Option<Result<Arc<Snapshot>, Arc<FetchError>>> {
        if self.attempts <= after_attempt {
            return None;
        }
        Some(match (&self.last_error, &self.snapshot) {
            (Some(error), _) => Err(error.clone()),
            (None, Some(snapshot)) => Ok(snapshot.clone()),
            (None, None) => Err(self.backing_off()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::generated;

    const SECOND: Duration = Duration::from_secs(1);

    fn policy() -> RefreshPolicy {
        RefreshPolicy::default()
    }

    fn snapshot_of(paserks: &[&str], fetched: Instant, ttl: Duration) -> (Snapshot, Vec<String>) {
        let keys: KeySet = paserks.iter().map(|text| PublicKey::from_paserk(text).unwrap()).collect();
        let kids = keys.iter().map(|key| key.kid().to_owned()).collect();
        let expected = Expectations { issuer: "i".into(), audience: "a".into() };
        (Snapshot::new(keys, expected, fetched, ttl, &policy()), kids)
    }

    fn failure() -> FetchError {
        FetchError::Status { url: "u".into(), status: 500 }
    }

    /// A cache that fetched one key at `at`, fresh for 300 s.
    fn warm(at: Instant) -> (KeyCache, String) {
        let (_, paserk) = generated();
        let mut cache = KeyCache::new("u".into());
        let (snapshot, kids) = snapshot_of(&[&paserk], at, Duration::from_secs(300));
        assert!(matches!(
            cache.plan(&kids[0], at, &policy()),
            Plan::Fetch { after_attempt: 0, may_fetch: true }
        ));
        cache.record(Ok(snapshot), at, &policy());
        (cache, kids[0].clone())
    }

    #[test]
    fn a_cold_cache_fetches_and_then_serves_fresh_keys_without_fetching() {
        let start = Instant::now();
        let (mut cache, kid) = warm(start);
        assert!(matches!(
            cache.plan(&kid, start + 299 * SECOND, &policy()),
            Plan::Found { refresh: false, .. }
        ));
    }

    #[test]
    fn stale_keys_are_used_while_one_background_refresh_runs() {
        let start = Instant::now();
        let (mut cache, kid) = warm(start);
        let stale = start + 301 * SECOND;
        assert!(matches!(cache.plan(&kid, stale, &policy()), Plan::Found { refresh: true, .. }));
        assert!(matches!(cache.plan(&kid, stale, &policy()), Plan::Found { refresh: false, .. }));
        cache.record(Err(failure()), stale, &policy());
        assert!(matches!(cache.plan(&kid, stale + SECOND, &policy()), Plan::Found { refresh: false, .. }));
        let retry = stale + 5 * SECOND;
        assert!(matches!(cache.plan(&kid, retry, &policy()), Plan::Found { refresh: true, .. }));
    }

    #[test]
    fn keys_too_stale_are_not_used_and_failures_back_off() {
        let start = Instant::now();
        let (mut cache, kid) = warm(start);
        let too_stale = start + 300 * SECOND + policy().max_stale;
        assert!(matches!(cache.plan(&kid, too_stale, &policy()), Plan::Fetch { may_fetch: true, .. }));
        cache.record(Err(failure()), too_stale, &policy());
        let Plan::Unavailable(error) = cache.plan(&kid, too_stale + SECOND, &policy()) else { panic!() };
        assert!(matches!(*error, FetchError::Status { status: 500, .. }));
        assert!(matches!(
            cache.plan(&kid, too_stale + 5 * SECOND, &policy()),
            Plan::Fetch { may_fetch: true, .. }
        ));
    }

    #[test]
    fn an_unknown_key_fetches_once_per_interval() {
        let start = Instant::now();
        let (mut cache, _) = warm(start);
        let unknown = "k4.pid.unknown";
        let Plan::Fetch { after_attempt, may_fetch: true } = cache.plan(unknown, start, &policy()) else {
            panic!()
        };
        cache.set_pending(true);
        // Lookups while that fetch runs wait for it instead of being refused.
        assert!(matches!(cache.plan(unknown, start, &policy()), Plan::Fetch { may_fetch: false, .. }));
        let (snapshot, _) = snapshot_of(&[&generated().1], start, Duration::from_secs(300));
        cache.record(Ok(snapshot), start, &policy());
        assert!(cache.outcome_since(after_attempt).unwrap().is_ok());
        assert!(matches!(cache.plan(unknown, start + 9 * SECOND, &policy()), Plan::Unknown));
        assert!(matches!(
            cache.plan(unknown, start + 10 * SECOND, &policy()),
            Plan::Fetch { may_fetch: true, .. }
        ));
    }

    #[test]
    fn a_new_snapshot_replaces_the_old_keys() {
        let start = Instant::now();
        let (mut cache, old_kid) = warm(start);
        let (rotated, kids) = snapshot_of(&[&generated().1], start, Duration::from_secs(300));
        cache.record(Ok(rotated), start + SECOND, &policy());
        assert!(matches!(cache.plan(&kids[0], start + SECOND, &policy()), Plan::Found { .. }));
        assert!(matches!(cache.plan(&old_kid, start + SECOND, &policy()), Plan::Fetch { .. }));
    }

    #[test]
    fn outcomes_are_reported_only_for_later_attempts() {
        let start = Instant::now();
        let mut cache = KeyCache::new("u".into());
        assert!(cache.outcome_since(0).is_none());
        cache.record(Err(failure()), start, &policy());
        assert!(cache.outcome_since(0).unwrap().is_err());
        assert!(cache.outcome_since(1).is_none());
        assert!(matches!(cache.plan("k4.pid.x", start, &policy()), Plan::Unavailable(_)));
    }
}
