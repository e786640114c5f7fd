//! Remembered devices in a map.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::domain::{Device, DeviceId, UserId};
use otp_core::ports::{DeviceRepository, beyond_limit, device_unused_first};
use time::OffsetDateTime;

use crate::lock::lock;

/// In-memory [`DeviceRepository`].
#[derive(Debug, Default)]
pub struct MemoryDeviceRepository {
    devices: Mutex<HashMap<DeviceId, Device>>,
}

impl MemoryDeviceRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a new device (what [`DeviceRepository::create`] does).
    pub(crate) fn insert(&self, device: &Device) {
        lock(&self.devices).insert(device.id, device.clone());
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
        let others: Vec<&Device> =
            devices.values().filter(|other| other.user_id == device.user_id && other.is_active()).collect();
        let unused_first = device_unused_first(checks_count_since);
        let forgotten: Vec<DeviceId> = beyond_limit(others, limit, |other| unused_first(other))
            .into_iter()
            .map(|other| other.id)
            .collect();
        for id in &forgotten {
            if let Some(other) = devices.get_mut(id) {
                other.revoked_at = Some(device.created_at);
            }
        }
        devices.insert(device.id, device.clone());
        Ok(forgotten)
    }

    async fn find(&self, id: DeviceId) -> Result<Option<Device>, PortError> {
        Ok(lock(&self.devices).get(&id).cloned())
    }

    async fn record_sign_in(
        &self,
        id: DeviceId,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> Result<bool, PortError> {
        let mut devices = lock(&self.devices);
        match devices.get_mut(&id) {
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

    async fn list_active(&self, user_id: UserId) -> Result<Vec<Device>, PortError> {
        let mut active: Vec<Device> = lock(&self.devices)
            .values()
            .filter(|device| device.user_id == user_id && device.is_active())
            .cloned()
            .collect();
        active.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(active)
    }

    async fn revoke(&self, user_id: UserId, id: DeviceId, now: OffsetDateTime) -> Result<bool, PortError> {
        let mut devices = lock(&self.devices);
        match devices.get_mut(&id) {
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
            .values()
            .filter(|device| device.revoked_at.is_some_and(|at| at < before))
            .map(|device| device.id)
            .take(limit)
            .collect();
        for id in &forgotten {
            devices.remove(id);
        }
        Ok(forgotten.len() as u64)
    }
}
