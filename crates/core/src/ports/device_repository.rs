use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{Device, DeviceId, UserId};
use crate::error::PortError;

/// What an account's active devices say about one client: the answer of
/// [`DeviceRepository::client_standing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStanding {
    /// The account has at least one active device.
    pub has_devices: bool,
    /// One of them has the client's fingerprint.
    pub known: bool,
    /// One with the client's fingerprint passed a code check that still counts.
    pub code_checked: bool,
}

impl ClientStanding {
    /// The standing of `client` among `devices` (an account's active devices), a
    /// code check counting from `checks_count_since`: what an adapter that holds the
    /// devices in memory answers.
    pub fn among<'a>(
        devices: impl IntoIterator<Item = &'a Device>,
        client: &str,
        checks_count_since: OffsetDateTime,
    ) -> Self {
        devices.into_iter().fold(Self::default(), |standing, device| {
            let known = device.client == client;
            Self {
                has_devices: true,
                known: standing.known || known,
                code_checked: standing.code_checked
                    || (known && device.code_checked_since(checks_count_since)),
            }
        })
    }
}

/// Durable storage of remembered devices and their token hashes.
#[async_trait]
pub trait DeviceRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new device.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn create(&self, device: &Device) -> Result<(), PortError>;

    /// Stores a new device, then forgets (at its `created_at`) the account's other
    /// active devices that take it past `limit` (the new one always stays, so a limit
    /// below one counts as one), in [`super::device_unused_first`] order: devices
    /// whose code check is older than `checks_count_since` go before those whose check
    /// still counts. Returns the ids of the devices it forgot. Storing and forgetting
    /// are one change: both happen or neither. Calls for one account running at once may
    /// each leave one device more than the limit: the next call forgets it.
    ///
    /// # Errors
    /// [`PortError::AccountGone`] when its account was deleted (where the store ties
    /// devices to accounts); [`PortError::Unavailable`] when storage cannot be
    /// reached.
    async fn create_within_limit(
        &self,
        device: &Device,
        limit: usize,
        checks_count_since: OffsetDateTime,
    ) -> Result<Vec<DeviceId>, PortError>;

    /// The device with this identifier, remembered or revoked.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find(&self, id: DeviceId) -> Result<Option<Device>, PortError>;

    /// Records a sign-in on an active device at `now`: sets `last_used_at`, and, when
    /// `code_checked`, `code_verified_at` too. Returns `false` when the device is
    /// unknown or revoked (nothing changes).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn record_sign_in(
        &self,
        id: DeviceId,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> Result<bool, PortError>;

    /// What the user's active devices say about the client whose fingerprint is
    /// `client` ([`Device::client`]): whether there is any active device, whether one
    /// of them is this client's, and whether one of those passed a code check at or
    /// after `checks_count_since`. One answer, whatever the number of devices, for the
    /// sign-ins of clients that keep no device token.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn client_standing(
        &self,
        user_id: UserId,
        client: &str,
        checks_count_since: OffsetDateTime,
    ) -> Result<ClientStanding, PortError>;

    /// The user's active (not revoked) devices, newest first.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn list_active(&self, user_id: UserId) -> Result<Vec<Device>, PortError>;

    /// Revokes the device `id` if it belongs to `user_id` and is active. Returns
    /// whether it did (`false` for another user's device, an unknown one or one
    /// already revoked, whose earlier revocation time is kept).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn revoke(&self, user_id: UserId, id: DeviceId, now: OffsetDateTime) -> Result<bool, PortError>;

    /// Deletes at most `limit` devices forgotten (revoked) before `before`; returns
    /// how many it deleted, so fewer than `limit` means none is left. Remembered
    /// devices and those forgotten at or after `before` are kept.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn purge_forgotten(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError>;
}
