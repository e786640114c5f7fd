//! Remembered devices in the `devices` table.

use std::net::IpAddr;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{self, Bytea, Inet, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use ipnet::IpNet;
use otp_core::PortError;
use otp_core::crypto::TokenHash;
use otp_core::domain::{Device, DeviceId, UserId};
use otp_core::ports::{ClientStanding, DeviceRepository};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::corrupt;
use crate::limit::{EndedId, keeping_others};
use crate::pool::PgPool;
use crate::prepared::Prepared;
use crate::purge::purge_batch;
use crate::schema::devices;

/// One row of `devices`.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = devices, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
pub(crate) struct DeviceRow {
    pub(crate) id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) token_hash: Vec<u8>,
    pub(crate) client: String,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) last_used_at: OffsetDateTime,
    pub(crate) code_verified_at: Option<OffsetDateTime>,
    pub(crate) revoked_at: Option<OffsetDateTime>,
    pub(crate) ip: Option<IpNet>,
    pub(crate) user_agent: Option<String>,
}

impl From<&Device> for DeviceRow {
    fn from(device: &Device) -> Self {
        Self {
            id: device.id.as_uuid(),
            user_id: device.user_id.as_uuid(),
            token_hash: device.token_hash.as_bytes().to_vec(),
            client: device.client.clone(),
            created_at: device.created_at,
            last_used_at: device.last_used_at,
            code_verified_at: device.code_verified_at,
            revoked_at: device.revoked_at,
            ip: device.ip.map(IpNet::from),
            user_agent: device.user_agent.clone(),
        }
    }
}

impl DeviceRow {
    fn into_device(self, action: &'static str) -> Result<Device, PortError> {
        let hash: [u8; 32] = self.token_hash.as_slice().try_into().map_err(|_| {
            corrupt(action, format!("stored token hash of device {} is not 32 bytes", self.id))
        })?;
        Ok(Device {
            id: DeviceId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            token_hash: TokenHash::from_bytes(hash),
            client: self.client,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            code_verified_at: self.code_verified_at,
            revoked_at: self.revoked_at,
            ip: self.ip.map(|network| -> IpAddr { network.addr() }),
            user_agent: self.user_agent,
        })
    }
}

/// The one row of the client-standing query.
#[derive(QueryableByName)]
pub(crate) struct StandingRow {
    #[diesel(sql_type = sql_types::Bool)]
    has_devices: bool,
    #[diesel(sql_type = sql_types::Bool)]
    known: bool,
    #[diesel(sql_type = sql_types::Bool)]
    code_checked: bool,
}

impl From<StandingRow> for ClientStanding {
    fn from(row: StandingRow) -> Self {
        Self { has_devices: row.has_devices, known: row.known, code_checked: row.code_checked }
    }
}

/// PostgreSQL [`DeviceRepository`] on the `devices` table. Deleting an account deletes
/// its devices (foreign key `ON DELETE CASCADE`).
#[derive(Debug, Clone)]
pub struct PgDeviceRepository {
    pool: PgPool,
}

impl PgDeviceRepository {
    /// A repository on `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl DeviceRepository for PgDeviceRepository {
    async fn create(&self, device: &Device) -> Result<(), PortError> {
        const ACTION: &str = "remembering a device";
        let row = DeviceRow::from(device);
        self.pool
            .run(ACTION, async |connection| {
                diesel::insert_into(devices::table).values(row).execute(connection).await
            })
            .await?;
        Ok(())
    }

    async fn create_within_limit(
        &self,
        device: &Device,
        limit: usize,
        checks_count_since: OffsetDateTime,
    ) -> Result<Vec<DeviceId>, PortError> {
        const ACTION: &str = "remembering a device within the limit";
        // One statement, so one commit: the sub-select reads the snapshot from before
        // the INSERT, so it ranks the others only, those whose code check still counts
        // last to go. A concurrent call that picked the same row waits for its lock,
        // then finds it revoked and skips it.
        // The rows to end are locked first, in the order of their ids: calls that pick
        // overlapping rows then wait for each other in one order instead of
        // deadlocking (each locking in its scan's order, a flood of sign-ins of one
        // account met `deadlock detected`). Before them, the account's row, as its
        // deletion locks it before its cascade locks these rows: otherwise the new row's
        // foreign key check, at the end, waits for a deletion that waits for the rows
        // locked here.
        const CREATE_WITHIN_LIMIT: &str = "WITH remembered AS (
                INSERT INTO devices
                    (id, user_id, token_hash, client, created_at, last_used_at, code_verified_at, revoked_at, ip,
                     user_agent)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            )
            , owner AS (
                SELECT id FROM users WHERE id = $2 FOR KEY SHARE
            ), past AS (
                SELECT id FROM devices
                WHERE user_id = (SELECT id FROM owner) AND revoked_at IS NULL
                ORDER BY (code_verified_at >= $11) IS TRUE DESC, last_used_at DESC, created_at DESC, id DESC
                OFFSET $KEPT
            ), locked AS (
                SELECT id FROM devices WHERE id IN (SELECT id FROM past) ORDER BY id FOR NO KEY UPDATE
            )
            UPDATE devices SET revoked_at = $5
            WHERE id IN (SELECT id FROM locked) AND revoked_at IS NULL
            RETURNING id";
        let row = DeviceRow::from(device);
        let forgotten = self
            .pool
            .run(ACTION, async |connection| {
                Prepared(
                    diesel::sql_query(keeping_others(CREATE_WITHIN_LIMIT, limit))
                        .bind::<sql_types::Uuid, _>(row.id)
                        .bind::<sql_types::Uuid, _>(row.user_id)
                        .bind::<Bytea, _>(&row.token_hash)
                        .bind::<Text, _>(&row.client)
                        .bind::<Timestamptz, _>(row.created_at)
                        .bind::<Timestamptz, _>(row.last_used_at)
                        .bind::<Nullable<Timestamptz>, _>(row.code_verified_at)
                        .bind::<Nullable<Timestamptz>, _>(row.revoked_at)
                        .bind::<Nullable<Inet>, _>(row.ip)
                        .bind::<Nullable<Text>, _>(&row.user_agent)
                        .bind::<Timestamptz, _>(checks_count_since),
                )
                .load::<EndedId>(connection)
                .await
            })
            .await?;
        Ok(forgotten.into_iter().map(|ended| DeviceId::from_uuid(ended.id)).collect())
    }

    async fn find(&self, id: DeviceId) -> Result<Option<Device>, PortError> {
        const ACTION: &str = "finding a device";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                devices::table
                    .find(id.as_uuid())
                    .select(DeviceRow::as_select())
                    .first(connection)
                    .await
                    .optional()
            })
            .await?;
        row.map(|row| row.into_device(ACTION)).transpose()
    }

    async fn record_sign_in(
        &self,
        id: DeviceId,
        now: OffsetDateTime,
        code_checked: bool,
    ) -> Result<bool, PortError> {
        const ACTION: &str = "recording a sign-in on a device";
        let updated = self
            .pool
            .run(ACTION, async |connection| {
                let active =
                    devices::table.filter(devices::id.eq(id.as_uuid()).and(devices::revoked_at.is_null()));
                if code_checked {
                    diesel::update(active)
                        .set((devices::last_used_at.eq(now), devices::code_verified_at.eq(Some(now))))
                        .execute(connection)
                        .await
                } else {
                    diesel::update(active).set(devices::last_used_at.eq(now)).execute(connection).await
                }
            })
            .await?;
        Ok(updated > 0)
    }

    async fn client_standing(
        &self,
        user_id: UserId,
        client: &str,
        checks_count_since: OffsetDateTime,
    ) -> Result<ClientStanding, PortError> {
        const ACTION: &str = "reading a client's standing among the devices of a user";
        // One row, whatever the number of devices: the aggregates read the account's
        // active devices through devices_active_by_user_idx.
        const CLIENT_STANDING: &str = "SELECT count(*) > 0 AS has_devices,
                coalesce(bool_or(client = $2), false) AS known,
                coalesce(bool_or(client = $2 AND code_verified_at >= $3), false) AS code_checked
            FROM devices WHERE user_id = $1 AND revoked_at IS NULL";
        let row = self
            .pool
            .run(ACTION, async |connection| {
                Prepared(
                    diesel::sql_query(CLIENT_STANDING)
                        .bind::<sql_types::Uuid, _>(user_id.as_uuid())
                        .bind::<Text, _>(client)
                        .bind::<Timestamptz, _>(checks_count_since),
                )
                .get_result::<StandingRow>(connection)
                .await
            })
            .await?;
        Ok(row.into())
    }

    async fn list_active(&self, user_id: UserId) -> Result<Vec<Device>, PortError> {
        const ACTION: &str = "listing the devices of a user";
        let rows = self
            .pool
            .run(ACTION, async |connection| {
                devices::table
                    .filter(devices::user_id.eq(user_id.as_uuid()).and(devices::revoked_at.is_null()))
                    .order((devices::created_at.desc(), devices::id.desc()))
                    .select(DeviceRow::as_select())
                    .load(connection)
                    .await
            })
            .await?;
        rows.into_iter().map(|row| row.into_device(ACTION)).collect()
    }

    async fn revoke(&self, user_id: UserId, id: DeviceId, now: OffsetDateTime) -> Result<bool, PortError> {
        const ACTION: &str = "forgetting a device";
        let revoked = self
            .pool
            .run(ACTION, async |connection| {
                diesel::update(devices::table)
                    .filter(
                        devices::id
                            .eq(id.as_uuid())
                            .and(devices::user_id.eq(user_id.as_uuid()))
                            .and(devices::revoked_at.is_null()),
                    )
                    .set(devices::revoked_at.eq(now))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(revoked > 0)
    }

    async fn purge_forgotten(&self, before: OffsetDateTime, limit: usize) -> Result<u64, PortError> {
        // Rows another statement holds are left to the next batch: the purge never waits.
        const PURGE: &str = "DELETE FROM devices WHERE id IN \
            (SELECT id FROM devices WHERE revoked_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
        purge_batch(&self.pool, "purging forgotten devices", PURGE, before, limit).await
    }
}
