use async_trait::async_trait;
use time::OffsetDateTime;

use crate::crypto::TokenHash;
use crate::domain::{Session, SessionId, UserId};
use crate::error::PortError;
use crate::ports::{DeviceSignIn, OpenedOnDevice};

/// How many replaced refresh hashes a session repository remembers per session, at
/// least: a token replaced more recently than that is recognised as reused.
pub const RETIRED_REFRESH_HASHES: usize = 32;

/// What [`SessionRepository::rotate_refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented hash was current: the session now holds the replacement.
    Rotated(Session),
    /// The presented hash was one the session held before (a stolen or replayed
    /// token): the session has been revoked.
    ReuseDetected,
    /// The presented hash never belonged to the session (as far as it remembers): a
    /// forged or foreign token. Nothing changed; the session stays live.
    Unrecognised,
    /// The session does not exist, is revoked, or has expired; nothing changed.
    Inactive,
}

/// Durable storage of sessions and their refresh-token hashes.
#[async_trait]
pub trait SessionRepository: Send + Sync + std::fmt::Debug {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`PortError::AccountGone`] when its account was deleted (where the store ties
    /// sessions to accounts); [`PortError::Unavailable`] when storage cannot be
    /// reached.
    async fn create(&self, session: &Session) -> Result<(), PortError>;

    /// Stores a new session, then ends (at its `created_at`) the other sessions of its
    /// account active at that instant that take the account past `limit` (the new one
    /// always stays, so a limit below one counts as one), least recently used first
    /// ([`super::session_unused_first`]); returns the ids of the sessions it ended.
    /// Storing and ending are one change: both happen or neither. Calls for one account
    /// running at once may each leave one session more than the limit: the next call
    /// ends it.
    ///
    /// # Errors
    /// [`PortError::AccountGone`] when its account was deleted (where the store ties
    /// sessions to accounts); [`PortError::Unavailable`] when storage cannot be
    /// reached.
    async fn create_within_limit(&self, session: &Session, limit: usize)
    -> Result<Vec<SessionId>, PortError>;

    /// Does what [`SessionRepository::create_within_limit`] does with `session` and
    /// `limit`, and records the sign-in's device (`device`, see [`DeviceSignIn`]) on the
    /// device storage of the same deployment, as one change: all of it happens or none
    /// does. One commit instead of two for every sign-in of an existing account.
    ///
    /// A store that cannot write both at once answers `Ok(None)` having changed
    /// nothing (the default); the caller then calls the two repositories apart.
    ///
    /// # Errors
    /// [`PortError::AccountGone`] when the account was deleted (where the store ties
    /// sessions and devices to accounts), nothing stored; [`PortError::Unavailable`]
    /// when storage cannot be reached.
    async fn create_on_device(
        &self,
        session: &Session,
        limit: usize,
        device: DeviceSignIn<'_>,
    ) -> Result<Option<OpenedOnDevice>, PortError> {
        let _ = (session, limit, device);
        Ok(None)
    }

    /// The session with this identifier, active or not.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn find(&self, id: SessionId) -> Result<Option<Session>, PortError>;

    /// Atomically replaces the refresh hash of an active session.
    ///
    /// If the session is active at `now` and its hash equals `presented`, the hash
    /// becomes `replacement`, `last_used_at` becomes `now` and `expires_at` becomes
    /// `expires_at`, and the updated session is returned as
    /// [`RotateOutcome::Rotated`]; the replaced hash is remembered as retired. If it is
    /// active and `presented` is one of its last [`RETIRED_REFRESH_HASHES`] retired
    /// hashes (or more), it MUST be revoked at `now` and
    /// [`RotateOutcome::ReuseDetected`] returned. If it is active and `presented` is
    /// neither its hash nor a remembered retired one, nothing changes and
    /// [`RotateOutcome::Unrecognised`] is returned: knowing a session id is not enough
    /// to end the session. Of any number of concurrent calls presenting the same hash,
    /// at most one rotates.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: &TokenHash,
        replacement: &TokenHash,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<RotateOutcome, PortError>;

    /// Revokes one session at `now`. Returns `true` if it was active, `false` if it
    /// was unknown or already ended (an earlier revocation time is kept).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<bool, PortError>;

    /// Revokes every active session of a user at `now`; returns how many were active.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn revoke_all_for_user(&self, user_id: UserId, now: OffsetDateTime) -> Result<u64, PortError>;

    /// The user's sessions that are active at `now`, newest first.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn list_active(&self, user_id: UserId, now: OffsetDateTime) -> Result<Vec<Session>, PortError>;

    /// Deletes at most `limit` sessions that ended before `before` (revoked or expired
    /// before that instant); returns how many it deleted, so fewer than `limit` means
    /// none is left. Active sessions and those that ended at or after `before` are
    /// kept. A deleted session's refresh token is then unknown: refused all the same
    /// ([`RotateOutcome::Inactive`]), no longer recognised as reused.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn purge_ended(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError>;
}
