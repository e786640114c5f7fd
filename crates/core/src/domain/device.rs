//! A remembered device: the client an account signed in on, told apart from strangers
//! by the device token it keeps.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{DeviceId, UserId};
use crate::crypto::TokenHash;

/// A stored device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Stable identifier, the first part of its token.
    pub id: DeviceId,
    /// The account it is bound to.
    pub user_id: UserId,
    /// Keyed hash of the token's secret part; the token itself is never stored.
    pub token_hash: TokenHash,
    /// Keyed pseudonym of the client's network and user agent when it was remembered.
    pub client: String,
    /// When it was first remembered.
    pub created_at: OffsetDateTime,
    /// When it last signed in.
    pub last_used_at: OffsetDateTime,
    /// When it last passed a code check (a code entered on it), if ever.
    pub code_verified_at: Option<OffsetDateTime>,
    /// When it was forgotten (revoked).
    pub revoked_at: Option<OffsetDateTime>,
    /// Client address when it was remembered.
    pub ip: Option<IpAddr>,
    /// Client `User-Agent` when it was remembered (at most 256 characters).
    pub user_agent: Option<String>,
}

impl Device {
    /// Whether it is still remembered.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Whether its last code check was at or after `since`.
    pub fn code_checked_since(&self, since: OffsetDateTime) -> bool {
        self.code_verified_at.is_some_and(|at| at >= since)
    }
}
