//! Keys fetched from an otp-server's `GET /auth/keys`, cached as its `Cache-Control`
//! says, refreshed in the background, and fetched again (rate-limited) when a token
//! names a key the cache does not have: that is how a rotated key is picked up.

mod document;
mod policy;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use reqwest::Url;
use reqwest::header::{ACCEPT, AGE, CACHE_CONTROL};

pub use self::policy::RefreshPolicy;
use self::state::{KeyCache, Plan, Snapshot};
use crate::cache_control::freshness;
use crate::error::{ConfigError, FetchError, VerifyError};
use crate::http;
use crate::keys::PublicKey;
use crate::token::Expectations;

/// A key found for a token, with the issuer and audience published beside it.
pub(crate) struct Found {
    pub(crate) key: PublicKey,
    pub(crate) published: Expectations,
}

/// The published keys of one otp-server, shared by every clone of a verifier.
#[derive(Debug, Clone)]
pub(crate) struct RemoteKeys {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: Url,
    client: reqwest::Client,
    policy: RefreshPolicy,
    cache: Mutex<KeyCache>,
    /// Held while a fetch runs: concurrent lookups wait for that one fetch.
    fetching: tokio::sync::Mutex<()>,
}

impl RemoteKeys {
    pub(crate) fn new(url: Url, policy: RefreshPolicy) -> Result<Self, ConfigError> {
        policy.validate()?;
        let client = http::client(policy.timeout)?;
        let cache = Mutex::new(KeyCache::new(url.to_string()));
        Ok(Self {
            shared: Arc::new(Shared { url, client, policy, cache, fetching: tokio::sync::Mutex::new(()) }),
        })
    }

    /// The key named `kid`, fetching the keys first when none usable are cached or the
    /// key is unknown (at most once per `unknown_key_interval`).
    pub(crate) async fn find(&self, kid: &str) -> Result<Found, VerifyError> {
        let plan = self.shared.lock().plan(kid, Instant::now(), &self.shared.policy);
        match plan {
            Plan::Found { key, snapshot, refresh, after_attempt } => {
                if refresh {
                    self.refresh_in_background(after_attempt);
                }
                Ok(Found { key, published: snapshot.expected.clone() })
            }
            Plan::Unknown => Err(VerifyError::UnknownKey),
            Plan::Unavailable(error) => Err(VerifyError::KeysUnavailable(error)),
            Plan::Fetch { after_attempt, may_fetch } => {
                let snapshot = match self.shared.fetch_once(after_attempt, may_fetch).await {
                    Some(outcome) => outcome.map_err(VerifyError::KeysUnavailable)?,
                    None => return Err(VerifyError::UnknownKey),
                };
                let key = snapshot.keys.find(kid).cloned().ok_or(VerifyError::UnknownKey)?;
                Ok(Found { key, published: snapshot.expected.clone() })
            }
        }
    }

    fn refresh_in_background(&self, after_attempt: u64) {
        let shared = self.shared.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let _ = shared.fetch_once(after_attempt, true).await;
                });
            }
            // No runtime to refresh on: the next lookup once the keys are too stale
            // fetches them itself.
            Err(_) => shared.lock().set_pending(false),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, KeyCache> {
        // The cache is consistent after every statement: a panic elsewhere leaves it usable.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the fetch running now, or makes one (when `may_fetch`), and returns
    /// the outcome of the first fetch that finished after `after_attempt`; `None` when
    /// none did and this caller may not fetch.
    async fn fetch_once(
        &self,
        after_attempt: u64,
        may_fetch: bool,
    ) -> Option<Result<Arc<Snapshot>, Arc<FetchError>>> {
        let _running = self.fetching.lock().await;
        if let Some(outcome) = self.lock().outcome_since(after_attempt) {
            return Some(outcome);
        }
        if !may_fetch {
            return None;
        }
        let pending = PendingFetch::start(self);
        let result = self.fetch().await;
        if let Err(error) = &result {
            tracing::warn!(error = %error, source = ?std::error::Error::source(error), "fetching the token verification keys failed");
        }
        let mut cache = self.lock();
        cache.record(result, Instant::now(), &self.policy);
        pending.finish();
        let attempts = cache.attempts();
        cache.outcome_since(attempts - 1)
    }

    async fn fetch(&self) -> Result<Snapshot, FetchError> {
        let response = self
            .client
            .get(self.url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| http::transport(&self.url, error))?;
        let header = |name| response.headers().get(name).and_then(|value| value.to_str().ok());
        let declared = freshness(header(CACHE_CONTROL), header(AGE));
        let body = http::read_body(&self.url, response, self.policy.max_body_bytes).await?;
        let (keys, expected) = document::parse(&body)
            .map_err(|reason| FetchError::Invalid { url: self.url.to_string(), reason })?;
        let ttl = self.policy.ttl(declared);
        tracing::debug!(keys = keys.len(), ttl = ?ttl, "fetched the token verification keys");
        Ok(Snapshot::new(keys, expected, Instant::now(), ttl, &self.policy))
    }
}

/// Marks a fetch as running; when the fetch is abandoned (its request was cancelled),
/// dropping this clears the mark so the next lookup can fetch.
struct PendingFetch<'a> {
    shared: &'a Shared,
    finished: bool,
}

impl<'a> PendingFetch<'a> {
    fn start(shared: &'a Shared) -> Self {
        shared.lock().set_pending(true);
        Self { shared, finished: false }
    }

    fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for PendingFetch<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.lock().set_pending(false);
        }
    }
}
