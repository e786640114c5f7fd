//! Sessions in the `sessions` table.

use std::net::IpAddr;

use async_trait::async_trait;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{self, Array, Bytea, Inet, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use ipnet::IpNet;
use otp_core::crypto::TokenHash;
use otp_core::domain::{AuthMethod, Session};
use otp_core::ports::{
    DeviceSignIn, OpenedOnDevice, RETIRED_REFRESH_HASHES, RotateOutcome, SessionRepository,
};
use otp_core::{PortError, SessionId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::corrupt;
use crate::limit::{EndedId, keeping_others};
use crate::pool::PgPool;
use crate::prepared::Prepared;
use crate::purge::purge_batch;
use crate::schema::sessions;

/// Ends every active session of an account at `now`: the account's row is locked
/// first (as deleting it locks it before its cascade), then the sessions in the order
/// of their ids, as `create_within_limit` does, so a reset or a "sign out everywhere",
/// a flood of sign-ins of the account and its deletion wait for each other instead of
/// deadlocking. How many it ended.
pub(crate) async fn end_all_of_user(
    connection: &mut AsyncPgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> QueryResult<usize> {
    const END_ALL_OF_USER: &str = "WITH owner AS (
            SELECT id FROM users WHERE id = $1 FOR KEY SHARE
        ), locked AS (
            SELECT id FROM sessions
            WHERE user_id = (SELECT id FROM owner) AND revoked_at IS NULL AND expires_at > $2
            ORDER BY id FOR NO KEY UPDATE
        )
        UPDATE sessions SET revoked_at = $2
        WHERE id IN (SELECT id FROM locked) AND revoked_at IS NULL AND expires_at > $2";
    Prepared(
        diesel::sql_query(END_ALL_OF_USER).bind::<sql_types::Uuid, _>(user_id).bind::<Timestamptz, _>(now),
    )
    .execute(connection)
    .await
}

/// A new session and the account's sessions it pushes past the limit, ended: the
/// `WITH` part of a sign-in's statement, on its own (`create_within_limit`) or with the
/// device's part after it ([`crate::sessions_on_devices`]). `$1`–`$10` are the new
/// session's columns, `$KEPT` how many others the limit keeps (see
/// [`keeping_others`]); `ended` returns the ids of the sessions it ended.
///
/// One statement, so one commit: the sub-select reads the snapshot from before the
/// `INSERT`, so it counts the others only. A concurrent call that picked the same row
/// waits for its lock, then finds it revoked and skips it. The rows to end are locked
/// first, in the order of their ids: calls that pick overlapping rows then wait for
/// each other in one order instead of deadlocking (each locking in its scan's order, a
/// flood of sign-ins of one account met `deadlock detected`). Before them, the
/// account's row, as its deletion locks it before its cascade locks these rows:
/// otherwise the new row's foreign key check, at the end, waits for a deletion that
/// waits for the rows locked here.
pub(crate) const OPEN_WITHIN_LIMIT: &str = "WITH opened AS (
        INSERT INTO sessions
            (id, user_id, refresh_hash, created_at, last_used_at, expires_at, revoked_at, ip, user_agent,
             auth_methods)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ), owner AS (
        SELECT id FROM users WHERE id = $2 FOR KEY SHARE
    ), past AS (
        SELECT id FROM sessions
        WHERE user_id = (SELECT id FROM owner) AND revoked_at IS NULL AND expires_at > $4
        ORDER BY last_used_at DESC, created_at DESC, id DESC
        OFFSET $KEPT
    ), locked AS (
        SELECT id FROM sessions WHERE id IN (SELECT id FROM past) ORDER BY id FOR NO KEY UPDATE
    ), ended AS (
        UPDATE sessions SET revoked_at = $4
        WHERE id IN (SELECT id FROM locked) AND revoked_at IS NULL AND expires_at > $4
        RETURNING id
    )";

/// One row of `sessions`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
pub(crate) struct SessionRow {
    pub(crate) id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) refresh_hash: Vec<u8>,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) last_used_at: OffsetDateTime,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) revoked_at: Option<OffsetDateTime>,
    pub(crate) ip: Option<IpNet>,
    pub(crate) user_agent: Option<String>,
    pub(crate) auth_methods: Vec<String>,
}

impl From<&Session> for SessionRow {
    fn from(session: &Session) -> Self {
        Self {
            id: session.id.as_uuid(),
            user_id: session.user_id.as_uuid(),
            refresh_hash: session.refresh_hash.as_bytes().to_vec(),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
            revoked_at: session.revoked_at,
            ip: session.ip.map(IpNet::from),
            user_agent: session.user_agent.clone(),
            auth_methods: session.auth_methods.iter().map(AuthMethod::as_claim).collect(),
        }
    }
}

impl SessionRow {
    fn into_session(self, action: &'static str) -> Result<Session, PortError> {
        let hash: [u8; 32] = self.refresh_hash.as_slice().try_into().map_err(|_| {
            corrupt(action, format!("stored refresh hash of session {} is not 32 bytes", self.id))
        })?;
        let auth_methods = self
            .auth_methods
            .iter()
            .map(|method| method.parse::<AuthMethod>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| corrupt(action, format!("session {}: {error}", self.id)))?;
        Ok(Session {
            id: SessionId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            refresh_hash: TokenHash::from_bytes(hash),
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            ip: self.ip.map(|network| -> IpAddr { network.addr() }),
            user_agent: self.user_agent,
            auth_methods,
        })
    }
}

/// PostgreSQL [`SessionRepository`] on the `sessions` table.
///
/// Each session belongs to a row of `users` (a foreign key, deleted with it):
/// creating a session for an unknown account (one deleted meanwhile) fails with
/// `PortError::AccountGone`.
/// `rotate_refresh` is one conditional `UPDATE`, so of concurrent rotations with one
/// hash exactly one matches; the others find it among the retired hashes
/// (`retired_refresh_hashes`, the last [`RETIRED_REFRESH_HASHES`]) and revoke the session.
#[derive(Debug, Clone)]
pub struct PgSessionRepository {
    pool: PgPool,
}

impl PgSessionRepository {
    /// A repository on `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl SessionRepository for PgSessionRepository {
    async fn create(&self, session: &Session) -> Result<(), PortError> {
        const ACTION: &str = "creating a session";
        self.pool
            .run(ACTION, async |connection| {
                diesel::insert_into(sessions::table)
                    .values(SessionRow::from(session))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn create_within_limit(
        &self,
        session: &Session,
        limit: usize,
    ) -> Result<Vec<SessionId>, PortError> {
        const ACTION: &str = "creating a session within the limit";
        // One statement, so one commit: the sub-select reads the snapshot from before
        // the INSERT, so it counts the others only. A concurrent call that picked the
        // same row waits for its lock, then finds it revoked and skips it.
        // The rows to end are locked first, in the order of their ids: calls that pick
        // overlapping rows then wait for each other in one order instead of
        // deadlocking (each locking in its scan's order, a flood of sign-ins of one
        // account met `deadlock detected`). Before them, the account's row, as its
        // deletion locks it before its cascade locks these rows: otherwise the new row's
        // foreign key check, at the end, waits for a deletion that waits for the rows
        // locked here.
        let row = SessionRow::from(session);
        let ended = self
            .pool
            .run(ACTION, async |connection| {
                Prepared(
                    diesel::sql_query(keeping_others(OPEN_WITHIN_LIMIT, limit) + " SELECT id FROM ended")
                        .bind::<sql_types::Uuid, _>(row.id)
                        .bind::<sql_types::Uuid, _>(row.user_id)
                        .bind::<Bytea, _>(&row.refresh_hash)
                        .bind::<Timestamptz, _>(row.created_at)
                        .bind::<Timestamptz, _>(row.last_used_at)
                        .bind::<Timestamptz, _>(row.expires_at)
                        .bind::<Nullable<Timestamptz>, _>(row.revoked_at)
                        .bind::<Nullable<Inet>, _>(row.ip)
                        .bind::<Nullable<Text>, _>(&row.user_agent)
                        .bind::<Array<Text>, _>(&row.auth_methods),
                )
                .load::<EndedId>(connection)
                .await
            })
            .await?;
        Ok(ended.into_iter().map(|ended| SessionId::from_uuid(ended.id)).collect())
    }

    async fn create_on_device(
        &self,
        session: &Session,
        limit: usize,
        device: DeviceSignIn<'_>,
    ) -> Result<Option<OpenedOnDevice>, PortError> {
        crate::sessions_on_devices::create_on_device(&self.pool, session, limit, device).await.map(Some)
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, PortError> {
        const ACTION: &str = "finding a session";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                sessions::table
                    .find(id.as_uuid())
                    .select(SessionRow::as_select())
                    .first(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_session(ACTION)).transpose()
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: &TokenHash,
        replacement: &TokenHash,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<RotateOutcome, PortError> {
        const ACTION: &str = "rotating a refresh token";
        let active = || {
            sessions::id
                .eq(id.as_uuid())
                .and(sessions::revoked_at.is_null())
                .and(sessions::expires_at.gt(now))
        };
        // The row lock of the UPDATE serialises concurrent rotations: a later one
        // re-reads the row after the first commits and no longer matches the old hash.
        // On the right of SET, `refresh_hash` is the value being replaced.
        let retire = format!("(ARRAY[refresh_hash] || retired_refresh_hashes)[1:{RETIRED_REFRESH_HASHES}]");
        let rotated = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(sessions::table)
                    .filter(active().and(sessions::refresh_hash.eq(presented.as_bytes().as_slice())))
                    .set((
                        sessions::refresh_hash.eq(replacement.as_bytes().as_slice()),
                        sessions::retired_refresh_hashes.eq(sql::<Array<Bytea>>(&retire)),
                        sessions::last_used_at.eq(now),
                        sessions::expires_at.eq(expires_at),
                    ))
                    .returning(SessionRow::as_returning())
                    .get_result(connection)
                    .await
                    .optional()
            })
            .await?;
        if let Some(row) = rotated {
            return row.into_session(ACTION).map(RotateOutcome::Rotated);
        }
        // Not rotated: the session is not active (nothing to do), or it held the
        // presented hash before (a replayed token: revoke it), or it never held it (a
        // forged token: leave the session alone).
        let revoked =
            self.pool
                .run("revoking a session after refresh-token reuse", async |connection| {
                    diesel::update(sessions::table)
                        .filter(active().and(
                            sessions::retired_refresh_hashes.contains(vec![presented.as_bytes().to_vec()]),
                        ))
                        .set(sessions::revoked_at.eq(now))
                        .execute(connection)
                        .await
                })
                .await?;
        if revoked > 0 {
            return Ok(RotateOutcome::ReuseDetected);
        }
        let live = self
            .pool
            .run("checking a session after an unknown refresh token", async |connection| {
                diesel::select(diesel::dsl::exists(sessions::table.filter(active())))
                    .get_result::<bool>(connection)
                    .await
            })
            .await?;
        Ok(if live { RotateOutcome::Unrecognised } else { RotateOutcome::Inactive })
    }

    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<bool, PortError> {
        const ACTION: &str = "revoking a session";
        let revoked = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(sessions::table)
                    .filter(
                        sessions::id
                            .eq(id.as_uuid())
                            .and(sessions::revoked_at.is_null())
                            .and(sessions::expires_at.gt(now)),
                    )
                    .set(sessions::revoked_at.eq(now))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(revoked > 0)
    }

    async fn revoke_all_for_user(&self, user_id: UserId, now: OffsetDateTime) -> Result<u64, PortError> {
        const ACTION: &str = "revoking every session of a user";
        let revoked = self
            .pool
            .run(ACTION, async |connection| end_all_of_user(connection, user_id.as_uuid(), now).await)
            .await?;
        Ok(u64::try_from(revoked).unwrap_or(u64::MAX))
    }

    async fn list_active(&self, user_id: UserId, now: OffsetDateTime) -> Result<Vec<Session>, PortError> {
        const ACTION: &str = "listing the active sessions of a user";
        let rows = self
            .pool
            .run(ACTION, async |connection| {
                sessions::table
                    .filter(
                        sessions::user_id
                            .eq(user_id.as_uuid())
                            .and(sessions::revoked_at.is_null())
                            .and(sessions::expires_at.gt(now)),
                    )
                    .order((sessions::created_at.desc(), sessions::id.desc()))
                    .select(SessionRow::as_select())
                    .load(connection)
                    .await
            })
            .await?;
        rows.into_iter().map(|row| row.into_session(ACTION)).collect()
    }

    async fn purge_ended(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError> {
        // Rows another statement holds (an account's deletion, its cascade locking
        // in its own order) are left to the next batch: the purge never waits.
        const PURGE: &str = "DELETE FROM sessions WHERE id IN \
            (SELECT id FROM sessions WHERE revoked_at < $1 OR expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
        purge_batch(&self.pool, "purging ended sessions", PURGE, before, limit).await
    }
}
