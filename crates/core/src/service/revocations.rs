//! Telling every instance that a session ended or an account changed.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::{SessionId, UserId};
use crate::ports::{Revocation, RevocationChannel};
use crate::service::sessions::TokenCache;

/// How long to wait before the one retry of a publication that failed.
const RETRY_AFTER: Duration = Duration::from_millis(50);

/// The one way revocations leave a use case: this process's token cache forgets at
/// once, then every instance is told through the [`RevocationChannel`]. Every flow that
/// ends sessions or disables, deletes or changes the role of an account calls it after
/// storage has taken the change. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Revocations {
    channel: Arc<dyn RevocationChannel>,
    cache: Arc<TokenCache>,
}

impl Revocations {
    /// Revocations published on `channel`, applied first to `cache`.
    pub fn new(channel: Arc<dyn RevocationChannel>, cache: Arc<TokenCache>) -> Self {
        Self { channel, cache }
    }

    /// This process's token cache.
    pub fn cache(&self) -> &Arc<TokenCache> {
        &self.cache
    }

    /// Session `id` ended.
    pub async fn session_ended(&self, id: SessionId) {
        self.publish(Revocation::Session(id)).await;
    }

    /// Account `id` was disabled, enabled, deleted or had its role changed, or all its
    /// sessions ended.
    pub async fn account_changed(&self, id: UserId) {
        self.publish(Revocation::Account(id)).await;
    }

    /// Account `id` changed in a way no token depends on (its address became verified,
    /// a password was set): this process forgets its copy; other instances' copies
    /// expire within the cache's time to live.
    pub fn account_updated(&self, id: UserId) {
        self.cache.forget_user(id);
    }

    /// Listens to the channel for as long as the returned future runs (spawn it once per
    /// process): each revocation evicts what it names from this process's cache.
    pub fn follow(&self) -> impl Future<Output = ()> + Send + 'static {
        let (cache, feed) = (self.cache.clone(), self.channel.subscribe());
        async move { cache.follow(feed).await }
    }

    /// Evicts locally, then publishes, retrying once. A publication that still fails
    /// does not fail the use case (storage has taken the change): it is logged and
    /// counted, and the other instances notice within their cache's time to live, or
    /// within the staleness bound when their own feed is down too (as it is when the
    /// channel's server is).
    async fn publish(&self, revocation: Revocation) {
        self.cache.revoke(revocation);
        if self.channel.publish(revocation).await.is_ok() {
            return;
        }
        tokio::time::sleep(RETRY_AFTER).await;
        if let Err(error) = self.channel.publish(revocation).await {
            metrics::counter!("otp_revocations_unpublished_total").increment(1);
            tracing::error!(%error, "a revocation could not be pushed to the other instances");
        }
    }
}
