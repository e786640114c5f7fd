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

use crate::by_account::ByAccount;
use crate::lock::lock;

/// In-memory [`SessionRepository`]. Sessions that ended more than a day ago are
/// dropped as new ones are created, so memory stays bounded by the active ones; each
/// keeps its last [`RETIRED_REFRESH_HASHES`] replaced refresh hashes. An account's
/// sessions are indexed by account, so the work of a sign-in or a listing grows with
/// that account's sessions, not with everyone's.
#[derive(Debug, Default)]
pub struct MemorySessionRepository {
    sessions: Mutex<Sessions>,
}

/// A session and the refresh hashes it held before, newest first.
#[derive(Debug)]
struct Stored {
    session: Session,
    retired: VecDeque<TokenHash>,
}

/// The sessions, by id and by account.
#[derive(Debug, Default)]
struct Sessions {
    by_id: HashMap<SessionId, Stored>,
    /// Each account's session ids; a look drops the revoked ones.
    by_user: ByAccount<SessionId>,
}

impl Sessions {
    fn insert(&mut self, session: &Session) {
        if self.by_id.len() % 1024 == 1023 {
            self.sweep(session.created_at);
        }
        self.by_id.insert(session.id, Stored { session: session.clone(), retired: VecDeque::new() });
        self.by_user.add(session.user_id, session.id);
    }

    /// Drops the sessions long gone at `now`, and their ids from the accounts' lists.
    fn sweep(&mut self, now: OffsetDateTime) {
        self.by_id.retain(|_, kept| !long_gone(kept, now));
        let by_id = &self.by_id;
        self.by_user.retain(|id| by_id.contains_key(id));
    }

    /// Drops the session `id`, from its account's list too.
    fn remove(&mut self, id: SessionId) {
        if let Some(Stored { session, .. }) = self.by_id.remove(&id) {
            self.by_user.remove(session.user_id, id);
        }
    }

    /// The ids of `user_id`'s sessions active at `now`, after dropping the revoked and
    /// dropped ones from the account's list.
    fn active_of(&mut self, user_id: UserId, now: OffsetDateTime) -> Vec<SessionId> {
        let by_id = &self.by_id;
        let held = self
            .by_user
            .of(user_id, |id| by_id.get(id).is_some_and(|stored| stored.session.revoked_at.is_none()));
        held.into_iter().filter(|id| by_id[id].session.is_active(now)).collect()
    }

    fn session_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        self.by_id.get_mut(&id).map(|stored| &mut stored.session)
    }
}

impl MemorySessionRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes every session of `user_id` active at `now`; how many were.
    pub(crate) fn revoke_all_now(&self, user_id: UserId, now: OffsetDateTime) -> u64 {
        let mut sessions = lock(&self.sessions);
        let active = sessions.active_of(user_id, now);
        for id in &active {
            if let Some(session) = sessions.session_mut(*id) {
                session.revoked_at = Some(now);
            }
        }
        active.len() as u64
    }

    /// Stores a new session (what [`SessionRepository::create`] does), sweeping
    /// sessions long gone now and then.
    pub(crate) fn insert(&self, session: &Session) {
        lock(&self.sessions).insert(session);
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
        let active = sessions.active_of(session.user_id, now);
        let others: Vec<&Session> = active.iter().map(|id| &sessions.by_id[id].session).collect();
        let ended: Vec<SessionId> = beyond_limit(others, limit, |other| session_unused_first(other))
            .iter()
            .map(|other| other.id)
            .collect();
        for id in &ended {
            if let Some(other) = sessions.session_mut(*id) {
                other.revoked_at = Some(now);
            }
        }
        sessions.insert(session);
        Ok(ended)
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, PortError> {
        Ok(lock(&self.sessions).by_id.get(&id).map(|stored| stored.session.clone()))
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
            sessions.by_id.get_mut(&id).filter(|stored| stored.session.is_active(now))
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
        match sessions.session_mut(id) {
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
        let mut sessions = lock(&self.sessions);
        let active = sessions.active_of(user_id, now);
        let mut active: Vec<Session> = active.iter().map(|id| sessions.by_id[id].session.clone()).collect();
        active.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(active)
    }

    async fn purge_ended(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError> {
        let mut sessions = lock(&self.sessions);
        let ended: Vec<SessionId> = sessions
            .by_id
            .values()
            .map(|stored| &stored.session)
            .filter(|session| session.revoked_at.is_some_and(|at| at < before) || session.expires_at < before)
            .map(|session| session.id)
            .take(limit)
            .collect();
        for id in &ended {
            sessions.remove(*id);
        }
        Ok(ended.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use otp_core::domain::AuthMethod;
    use time::Duration;

    use super::*;

    fn session(user_id: UserId, created_at: OffsetDateTime) -> Session {
        Session {
            id: SessionId::generate(),
            user_id,
            refresh_hash: TokenHash::from_bytes([7; 32]),
            created_at,
            last_used_at: created_at,
            expires_at: created_at + Duration::days(30),
            revoked_at: None,
            ip: None,
            user_agent: None,
            auth_methods: vec![AuthMethod::Otp],
        }
    }

    fn listed(repo: &MemorySessionRepository, user_id: UserId) -> usize {
        lock(&repo.sessions).by_user.len_of(user_id)
    }

    #[tokio::test]
    async fn an_accounts_list_sheds_ended_and_purged_sessions() {
        let repo = MemorySessionRepository::new();
        let (user, other) = (UserId::generate(), UserId::generate());
        let now = OffsetDateTime::now_utc();
        let kept: Vec<Session> = (0..3).map(|_| session(user, now)).collect();
        for stored in &kept {
            repo.create(stored).await.unwrap();
        }
        repo.create(&session(other, now)).await.unwrap();
        assert!(repo.revoke(kept[0].id, now).await.unwrap());
        assert_eq!(listed(&repo, user), 3, "revoked ids go at the next look");
        assert_eq!(repo.list_active(user, now).await.unwrap().len(), 2);
        assert_eq!(listed(&repo, user), 2);
        repo.revoke_all_for_user(user, now).await.unwrap();
        assert_eq!(repo.purge_ended(now + Duration::seconds(1), 10).await.unwrap(), 3);
        assert_eq!(listed(&repo, user), 0, "purged ids leave the account's list");
        assert_eq!(listed(&repo, other), 1, "another account's list is left alone");
    }
}
