//! A signed-in session: the holder of one refresh token at a time.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::{AuthMethod, SessionId, UserId};
use crate::crypto::TokenHash;

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Stable identifier, carried as `sid` in access tokens.
    pub id: SessionId,
    /// The account signed in.
    pub user_id: UserId,
    /// Keyed hash of the current refresh token; the token itself is never stored.
    pub refresh_hash: TokenHash,
    /// When the session began.
    pub created_at: OffsetDateTime,
    /// When its refresh token was last rotated (or when it began).
    pub last_used_at: OffsetDateTime,
    /// When the current refresh token stops working.
    pub expires_at: OffsetDateTime,
    /// When it was ended by logout, reuse detection, a password reset or an admin.
    pub revoked_at: Option<OffsetDateTime>,
    /// Client address seen when the session began.
    pub ip: Option<IpAddr>,
    /// Client `User-Agent` seen when the session began (at most 256 characters).
    pub user_agent: Option<String>,
    /// How the session signed in (the `amr` claim of its access tokens); empty for
    /// sessions stored before this was recorded.
    pub auth_methods: Vec<AuthMethod>,
}

impl Session {
    /// Whether the session can still be used at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}
