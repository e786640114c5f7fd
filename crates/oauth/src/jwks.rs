//! The provider's signing keys (JWKS), fetched on first use, kept for an hour, and
//! fetched again when an ID token names a key the cached set lacks.

use std::time::{Duration, Instant};

use oauth2::url::Url;
use openidconnect::core::CoreJsonWebKeySet;
use otp_core::ports::OAuthError;
use reqwest::header::ACCEPT;

use crate::http::{ProviderHttp, parse_json};
use crate::token::transport;

/// How long a fetched key set is used before it is fetched again.
pub(crate) const JWKS_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// A fetched key set, with the generation that tells fetches apart.
#[derive(Debug, Clone)]
pub(crate) struct KeySet {
    pub keys: CoreJsonWebKeySet,
    generation: u64,
}

#[derive(Debug)]
struct Cached {
    set: KeySet,
    fetched_at: Instant,
}

/// The cache. Fetches are serialised, so concurrent sign-ins that all miss a key cause
/// one fetch, not one each: a refresh that finds the cache already renewed since the
/// caller's set uses that.
#[derive(Debug)]
pub(crate) struct JwksCache {
    url: Url,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl JwksCache {
    pub(crate) fn new(url: Url) -> Self {
        Self { url, cached: tokio::sync::Mutex::new(None) }
    }

    /// The cached keys, fetched first when there are none or they are older than
    /// [`JWKS_MAX_AGE`].
    pub(crate) async fn keys(&self, http: &ProviderHttp) -> Result<KeySet, OAuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref().filter(|current| current.fetched_at.elapsed() < JWKS_MAX_AGE) {
            return Ok(current.set.clone());
        }
        self.fetch_into(&mut cached, http).await
    }

    /// Keys newer than `seen`: the cache's when another caller renewed it meanwhile,
    /// else freshly fetched ones.
    pub(crate) async fn refresh(&self, seen: &KeySet, http: &ProviderHttp) -> Result<KeySet, OAuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref().filter(|current| current.set.generation > seen.generation) {
            return Ok(current.set.clone());
        }
        self.fetch_into(&mut cached, http).await
    }

    /// Fetches into the cache; when the fetch fails, an older set (if any) is still
    /// used, so a JWKS outage does not stop sign-ins with known keys.
    async fn fetch_into(
        &self,
        cached: &mut Option<Cached>,
        http: &ProviderHttp,
    ) -> Result<KeySet, OAuthError> {
        match self.fetch(http).await {
            Ok(keys) => {
                let generation = cached.as_ref().map_or(1, |previous| previous.set.generation + 1);
                let set = KeySet { keys, generation };
                *cached = Some(Cached { set: set.clone(), fetched_at: Instant::now() });
                tracing::debug!(generation, "provider signing keys fetched");
                Ok(set)
            }
            Err(error) => match cached.as_ref() {
                Some(stale) => {
                    tracing::warn!(error = %error, "fetching the provider's signing keys failed; using the cached ones");
                    Ok(stale.set.clone())
                }
                None => Err(error),
            },
        }
    }

    async fn fetch(&self, http: &ProviderHttp) -> Result<CoreJsonWebKeySet, OAuthError> {
        let request = http
            .get(self.url.clone())
            .header(ACCEPT, "application/json")
            .build()
            .map_err(|error| OAuthError::unavailable(format!("JWKS request: {error}")))?;
        let response = http.send(request).await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(OAuthError::unavailable(format!("the JWKS endpoint answered {}", response.status())));
        }
        parse_json(response.body(), "the JWKS")
    }
}
