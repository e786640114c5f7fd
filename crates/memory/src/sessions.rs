//! Sessions in a map.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::crypto::TokenHash;
use otp_core::domain::Session;
use otp_core::ports::{
    RETIRED_REFRESH_HASHES, RotateOutcome, SessionRepository, beyond_limit, session_unused_first,
};
use otp_core::{PortError, SessionId, UserId};
use time::OffsetDateTime;

use crate::lock::lock;

/// In-memory [`SessionRepository`]. Sessions that ended more than a day ago are
/// dropped as new ones are created, so memory stays bounded by the active ones; each
/// keeps its last [`RETIRED_REFRESH_HASHES`] replaced refresh hashes.
#[derive(Debug, Default)]
pub struct MemorySessionRepository {
    sessions: Mutex<HashMap<SessionId, Stored>>,
}

/// A session and the refresh hashes it held before, newest first.
#[derive(Debug)]
struct Stored {
    session: Session,
    retired: VecDeque<TokenHash>,
}

impl MemorySessionRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes every session of `user_id` active at `now`; how many were.
    pub(crate) fn revoke_all_now(&self, user_id: UserId, now: OffsetDateTime) -> u64 {
        let mut ended = 0;
        for Stored { session, .. } in lock(&self.sessions).values_mut() {
            if session.user_id == user_id && session.is_active(now) {
                session.revoked_at = Some(now);
                ended += 1;
            }
        }
        ended
    }

    /// Stores a new session (what [`SessionRepository::create`] does), sweeping
    /// sessions long gone now and then.
    pub(crate) fn insert(&self, session: &Session) {
        let mut sessions = lock(&self.sessions);
        if sessions.len() % 1024 == 1023 {
            sessions.retain(|_, kept| !long_gone(kept, session.created_at));
        }
        sessions.insert(session.id, Stored { session: session.clone(), retired: VecDeque::new() });
    }
}

fn long_gone(Stored { session, .. }: &Stored, now: OffsetDateTime) -> bool {
    let ended = session.revoked_at.unwrap_or(session.expires_at).min(session.expires_at);
    ended + time::Duration::days(1) < now
}

#[async_trait]
impl SessionRepository for MemorySessionRepository {
    async fn create(&self, session: &Session) -> Result<(), PortError> {
        self.insert(session);
        Ok(())
    }

    async fn create_within_limit(
        &self,
        session: &Session,
        limit: usize,
    ) -> Result<Vec<SessionId>, PortError> {
        let now = session.created_at;
        let mut sessions = lock(&self.sessions);
        let others: Vec<&Session> = sessions
            .values()
            .map(|stored| &stored.session)
            .filter(|other| other.user_id == session.user_id && other.is_active(now))
            .collect();
        let ended: Vec<SessionId> = beyond_limit(others, limit, |other| session_unused_first(other))
            .into_iter()
            .map(|other| other.id)
            .collect();
        for id in &ended {
            if let Some(stored) = sessions.get_mut(id) {
                stored.session.revoked_at = Some(now);
            }
        }
        drop(sessions);
        self.insert(session);
        Ok(ended)
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, PortError> {
        Ok(lock(&self.sessions).get(&id).map(|stored| stored.session.clone()))
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: &TokenHash,
        replacement: &TokenHash,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<RotateOutcome, PortError> {
        let mut sessions = lock(&self.sessions);
        let Some(Stored { session, retired }) =
            sessions.get_mut(&id).filter(|stored| stored.session.is_active(now))
        else {
            return Ok(RotateOutcome::Inactive);
        };
        if !session.refresh_hash.ct_eq(presented) {
            if retired.iter().any(|old| old.ct_eq(presented)) {
                session.revoked_at = Some(now);
                return Ok(RotateOutcome::ReuseDetected);
            }
            return Ok(RotateOutcome::Unrecognised);
        }
        retired.push_front(session.refresh_hash);
        retired.truncate(RETIRED_REFRESH_HASHES);
        session.refresh_hash = *replacement;
        session.last_used_at = now;
        session.expires_at = expires_at;
        Ok(RotateOutcome::Rotated(session.clone()))
    }

    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<bool, PortError> {
        let mut sessions = lock(&self.sessions);
        match sessions.get_mut(&id).map(|stored| &mut stored.session) {
            Some(session) if session.is_active(now) => {
                session.revoked_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn revoke_all_for_user(&self, user_id: UserId, now: OffsetDateTime) -> Result<u64, PortError> {
        Ok(self.revoke_all_now(user_id, now))
    }

    async fn list_active(&self, user_id: UserId, now: OffsetDateTime) -> Result<Vec<Session>, PortError> {
        let mut active: Vec<Session> = lock(&self.sessions)
            .values()
            .map(|stored| &stored.session)
            .filter(|session| session.user_id == user_id && session.is_active(now))
            .cloned()
            .collect();
        active.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(active)
    }

    async fn purge_ended(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError> {
        let mut sessions = lock(&self.sessions);
        let ended: Vec<SessionId> = sessions
            .values()
            .map(|stored| &stored.session)
            .filter(|session| session.revoked_at.is_some_and(|at| at < before) || session.expires_at < before)
            .map(|session| session.id)
            .take(limit)
            .collect();
        for id in &ended {
            sessions.remove(id);
        }
        Ok(ended.len() as u64)
    }
}
