//! Pending provider sign-ins in a map, taken at most once.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::crypto::StateHash;
use otp_core::ports::{EXPIRED_STATE_RETENTION, OAuthStateStore, PendingAuthorization};
use time::OffsetDateTime;

use crate::lock::lock;

#[derive(Debug, Default)]
struct States {
    pending: HashMap<StateHash, PendingAuthorization>,
    stored_since_sweep: usize,
}

/// When a record may be dropped: its expiry plus the retention that lets a late state
/// be told apart from an unknown one.
fn keep_until(pending: &PendingAuthorization) -> OffsetDateTime {
    pending.expires_at + EXPIRED_STATE_RETENTION
}

/// In-memory [`OAuthStateStore`]: every operation runs under one lock, so a record is
/// taken at most once. Records past their retention are swept as new ones arrive.
/// Pending sign-ins live in one process: behind a load balancer, the callback must reach
/// the instance that started the sign-in, or the instances need a shared store.
#[derive(Debug, Default)]
pub struct MemoryOAuthStateStore {
    states: Mutex<States>,
}

impl MemoryOAuthStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl OAuthStateStore for MemoryOAuthStateStore {
    async fn put(
        &self,
        key: &StateHash,
        pending: &PendingAuthorization,
        now: OffsetDateTime,
    ) -> Result<(), PortError> {
        let mut states = lock(&self.states);
        states.stored_since_sweep += 1;
        if states.stored_since_sweep >= 1024 {
            states.pending.retain(|_, kept| keep_until(kept) > now);
            states.stored_since_sweep = 0;
        }
        if keep_until(pending) > now {
            states.pending.insert(*key, pending.clone());
        }
        Ok(())
    }

    async fn take(&self, key: &StateHash) -> Result<Option<PendingAuthorization>, PortError> {
        Ok(lock(&self.states).pending.remove(key))
    }
}
