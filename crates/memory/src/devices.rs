//! Remembered devices in a map.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::domain::{Device, DeviceId, UserId};
use otp_core::ports::{ClientStanding, DeviceRepository, beyond_limit, device_unused_first};
use time::OffsetDateTime;

use crate::by_account::ByAccount;
use crate::lock::lock;

/// In-memory [`DeviceRepository`]. Devices are indexed by account, so the work of a
/// sign-in or a listing grows with that account's devices, not with everyone's.
#[derive(Debug, Default)]
pub struct MemoryDeviceRepository {
    devices: Mutex<Devices>,
}

/// The devices, by id and by account.
#[derive(Debug, Default)]
struct Devices {
    by_id: HashMap<DeviceId, Device>,
    /// Each account's device ids; a look drops the forgotten ones.
    by_user: ByAccount<DeviceId>,
}

impl Devices {
    fn insert(&mut self, device: &Device) {
        self.by_id.insert(device.id, device.clone());
        self.by_user.add(device.user_id, device.id);
    }

    /// Drops the device `id`, from its account's list too.
    fn remove(&mut self, id: DeviceId) {
        if let Some(device) = self.by_id.remove(&id) {
            self.by_user.remove(device.user_id, id);
        }
    }

    /// The ids of `user_id`'s active devices, after dropping the others from the
    /// account's list.
    fn active_of(&mut self, user_id: UserId) -> Vec<DeviceId> {
        let by_id = &self.by_id;
        self.by_user.of(user_id, |id| by_id.get(id).is_some_and(Device::is_active))
    }
}

impl MemoryDeviceRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a new device (what [`DeviceRepository::create`] does).
    pub(crate) fn insert(&self, device: &Device) {
        lock(&self.devices).insert(device);
    }
}

#[async_trait]
impl DeviceRepository for MemoryDeviceRepository {
    async fn create(&self, device: &Device) -> Result<(), PortError> {
        self.insert(device);
        Ok(())
    }

    async fn create_within_limit(
        &self,
        device: &Device,
        limit: usize,
        checks_count_since: OffsetDateTime,
    ) -> Result<Vec<DeviceId>, PortError> {
        let mut devices = lock(&self.devices);
        let active = devices.active_of(device.user_id);
        let others: Vec<&Device> = active.iter().map(|id| &devices.by_id[id]).collect();
        let unused_first = device_unused_first(checks_count_since);
        let forgotten: Vec<DeviceId> =
            beyond_limit(others, limit, |other| unused_first(other)).iter().map(|other| other.id).collect();
        for id in &forgotten {
            if let Some(other) = devices.by_id.get_mut(id) {
                other.revoked_at = Some(device.created_at);
            }
        }
        devices.insert(device);
        Ok(forgotten)
    }

    async fn find(&self, id: DeviceId) -> Result<Option<Device>, PortError> {
        Ok(lock(&self.devices).by_id.get(&id).cloned())
    }

    async fn record_sign_in(
        &self,
        id: DeviceId,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> Result<bool, PortError> {
        let mut devices = lock(&self.devices);
        match devices.by_id.get_mut(&id) {
            Some(device) if device.is_active() => {
                device.last_used_at = now;
                if code_checked {
                    device.code_verified_at = Some(now);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn client_standing(
        &self,
        user_id: UserId,
        client: &str,
        checks_count_since: OffsetDateTime,
    ) -> Result<ClientStanding, PortError> {
        let mut devices = lock(&self.devices);
        let active = devices.active_of(user_id);
        Ok(ClientStanding::among(active.iter().map(|id| &devices.by_id[id]), client, checks_count_since))
    }

    async fn list_active(&self, user_id: UserId) -> Result<Vec<Device>, PortError> {
        let mut devices = lock(&self.devices);
        let active = devices.active_of(user_id);
        let mut active: Vec<Device> = active.iter().map(|id| devices.by_id[id].clone()).collect();
        active.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(active)
    }

    async fn revoke(&self, user_id: UserId, id: DeviceId, now: OffsetDateTime) -> Result<bool, PortError> {
        let mut devices = lock(&self.devices);
        match devices.by_id.get_mut(&id) {
            Some(device) if device.user_id == user_id && device.is_active() => {
                device.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn purge_forgotten(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError> {
        let mut devices = lock(&self.devices);
        let forgotten: Vec<DeviceId> = devices
            .by_id
            .values()
            .filter(|device| device.revoked_at.is_some_and(|at| at < before))
            .map(|device| device.id)
            .take(limit)
            .collect();
        for id in &forgotten {
            devices.remove(*id);
        }
        Ok(forgotten.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use otp_core::crypto::TokenHash;
    use time::Duration;

    use super::*;

    fn device(user_id: UserId, created_at: OffsetDateTime) -> Device {
        Device {
            id: DeviceId::generate(),
            user_id,
            token_hash: TokenHash::from_bytes([7; 32]),
            client: "client".into(),
            created_at,
            last_used_at: created_at,
            code_verified_at: None,
            revoked_at: None,
            ip: None,
            user_agent: None,
        }
    }

    fn listed(repo: &MemoryDeviceRepository, user_id: UserId) -> usize {
        lock(&repo.devices).by_user.len_of(user_id)
    }

    #[tokio::test]
    async fn an_accounts_list_sheds_forgotten_and_purged_devices() {
        let repo = MemoryDeviceRepository::new();
        let (user, other) = (UserId::generate(), UserId::generate());
        let now = OffsetDateTime::now_utc();
        let kept: Vec<Device> = (0..3).map(|_| device(user, now)).collect();
        for stored in &kept {
            repo.create(stored).await.unwrap();
        }
        repo.create(&device(other, now)).await.unwrap();
        assert!(repo.revoke(user, kept[0].id, now).await.unwrap());
        assert_eq!(listed(&repo, user), 3, "forgotten ids go at the next look");
        assert_eq!(repo.list_active(user).await.unwrap().len(), 2);
        assert_eq!(listed(&repo, user), 2);
        let forgotten = repo.create_within_limit(&device(user, now), 1, now).await.unwrap();
        assert_eq!(forgotten.len(), 2);
        assert_eq!(repo.purge_forgotten(now + Duration::seconds(1), 10).await.unwrap(), 3);
        assert_eq!(listed(&repo, user), 1, "purged ids leave the account's list");
        assert_eq!(listed(&repo, other), 1, "another account's list is left alone");
    }
}
