//! A sign-in's two writes, its new session and its device, as one change: what
//! [`SessionRepository::create_on_device`](super::SessionRepository::create_on_device)
//! takes and answers.

use time::OffsetDateTime;

use crate::domain::{Device, DeviceId, SessionId};

/// The device a sign-in is recorded on, beside its new session.
#[derive(Debug, Clone, Copy)]
pub enum DeviceSignIn<'a> {
    /// A remembered device, recorded as
    /// [`DeviceRepository::record_sign_in`](super::DeviceRepository::record_sign_in)
    /// records it: `last_used_at`, and `code_verified_at` when `code_checked`, become
    /// the session's `created_at`, if the device is active and the session's account's
    /// (another account's device counts as unknown).
    Known {
        /// The remembered device.
        id: DeviceId,
        /// Whether the sign-in passed a code check.
        code_checked: bool,
    },
    /// A new device, stored as
    /// [`DeviceRepository::create_within_limit`](super::DeviceRepository::create_within_limit)
    /// stores it: the account's other active devices past `limit` are forgotten.
    New {
        /// The device to store (its `created_at` is the session's).
        device: &'a Device,
        /// How many active devices the account keeps.
        limit: usize,
        /// Code checks at or after this instant still count (they keep a device).
        checks_count_since: OffsetDateTime,
    },
}

/// What became of the device of a [`DeviceSignIn`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRecorded {
    /// The remembered device's sign-in was recorded (`true`), or the device was
    /// unknown or revoked and nothing changed for it (`false`).
    Known(bool),
    /// The new device was stored, and these devices were forgotten to keep the limit.
    New(Vec<DeviceId>),
}

/// What [`SessionRepository::create_on_device`](super::SessionRepository::create_on_device)
/// did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedOnDevice {
    /// The sessions the new one pushed past the limit, now ended.
    pub ended: Vec<SessionId>,
    /// The device's part.
    pub device: DeviceRecorded,
}
