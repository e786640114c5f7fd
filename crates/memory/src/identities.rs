//! Provider identities in a map, unique by (provider, subject).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::ports::{IdentityRepository, LinkedIdentity};
use otp_core::{PortError, UserId};

use crate::lock::lock;

/// In-memory [`IdentityRepository`]. It does not check that the linked account
/// exists.
#[derive(Debug, Default)]
pub struct MemoryIdentityRepository {
    identities: Mutex<HashMap<(String, String), LinkedIdentity>>,
}

impl MemoryIdentityRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdentityRepository for MemoryIdentityRepository {
    async fn link(&self, identity: &LinkedIdentity) -> Result<(), PortError> {
        let key = (identity.provider.clone(), identity.subject.clone());
        match lock(&self.identities).entry(key) {
            Entry::Occupied(_) => Err(PortError::IdentityTaken),
            Entry::Vacant(slot) => {
                slot.insert(identity.clone());
                Ok(())
            }
        }
    }

    async fn find(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>, PortError> {
        let key = (provider.to_owned(), subject.to_owned());
        Ok(lock(&self.identities).get(&key).cloned())
    }

    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<LinkedIdentity>, PortError> {
        let mut linked: Vec<LinkedIdentity> =
            lock(&self.identities).values().filter(|identity| identity.user_id == user_id).cloned().collect();
        linked.sort_by(|a, b| {
            (a.linked_at, &a.provider, &a.subject).cmp(&(b.linked_at, &b.provider, &b.subject))
        });
        Ok(linked)
    }

    async fn unlink(&self, user_id: UserId, provider: &str) -> Result<u64, PortError> {
        let mut identities = lock(&self.identities);
        let before = identities.len();
        identities.retain(|_, identity| identity.user_id != user_id || identity.provider != provider);
        Ok((before - identities.len()) as u64)
    }
}
