//! A sign-in's new session and its device in one statement, so one commit
//! ([`SessionRepository::create_on_device`](otp_core::ports::SessionRepository::create_on_device)).
//!
//! The statements are the session's `create_within_limit` and the device's
//! `create_within_limit` (or `record_sign_in`) joined in one data-modifying `WITH`: the
//! account's row is locked first, then the sessions to end and then the devices to
//! forget, each in the order of their ids. (PostgreSQL runs the parts of a `WITH` as
//! the outer query pulls them, here `ended` before `forgotten`; its documentation
//! calls that order unspecified, and none of it is relied on for correctness: nothing
//! else locks an account's devices and then its sessions in one transaction, so
//! neither order can deadlock with another statement.) Sign-ins of one account wait
//! for each other as with the two statements apart. The sub-selects read the snapshot
//! from before the statement, so they count the account's other rows only.

use diesel::QueryableByName;
use diesel::sql_types::{self, Array, Bool, Bytea, Inet, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use otp_core::domain::{DeviceId, Session};
use otp_core::ports::{DeviceRecorded, DeviceSignIn, OpenedOnDevice};
use otp_core::{PortError, SessionId};
use uuid::Uuid;

use crate::devices::DeviceRow;
use crate::limit::keeping_others;
use crate::pool::PgPool;
use crate::prepared::Prepared;
use crate::sessions::{OPEN_WITHIN_LIMIT, SessionRow};

/// A new device: `$11`–`$20` are its columns, `$21` when code checks start to count;
/// forgets the devices past the limit (`forgotten`). `$KEPT` is how many others
/// the limit keeps.
const NEW_DEVICE: &str = ", remembered AS (
        INSERT INTO devices
            (id, user_id, token_hash, client, created_at, last_used_at, code_verified_at, revoked_at, ip,
             user_agent)
        VALUES ($11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
    ), device_past AS (
        SELECT id FROM devices
        WHERE user_id = (SELECT id FROM owner) AND revoked_at IS NULL
        ORDER BY (code_verified_at >= $21) IS TRUE DESC, last_used_at DESC, created_at DESC, id DESC
        OFFSET $KEPT
    ), device_locked AS (
        SELECT id FROM devices WHERE id IN (SELECT id FROM device_past) ORDER BY id FOR NO KEY UPDATE
    ), forgotten AS (
        UPDATE devices SET revoked_at = $15
        WHERE id IN (SELECT id FROM device_locked) AND revoked_at IS NULL
        RETURNING id
    )
    SELECT 'session' AS part, id FROM ended
    UNION ALL SELECT 'device', id FROM forgotten";

/// A remembered device `$11` of the session's account: its sign-in recorded at the
/// session's `created_at`, its code check too when `$12` (`recorded`).
const KNOWN_DEVICE: &str = ", recorded AS (
        UPDATE devices
        SET last_used_at = $4, code_verified_at = CASE WHEN $12 THEN $4 ELSE code_verified_at END
        WHERE id = $11 AND user_id = $2 AND revoked_at IS NULL
        RETURNING id
    )
    SELECT 'session' AS part, id FROM ended
    UNION ALL SELECT 'device', id FROM recorded";

/// One row the statement answers: a session it ended, or a device it forgot (a new
/// device) or recorded (a remembered one).
#[derive(QueryableByName)]
struct Touched {
    #[diesel(sql_type = Text)]
    part: String,
    #[diesel(sql_type = sql_types::Uuid)]
    id: Uuid,
}

/// `$query` with the session's ten columns bound (`$1`–`$10`).
macro_rules! bind_session {
    ($query:expr, $row:expr) => {
        $query
            .bind::<sql_types::Uuid, _>($row.id)
            .bind::<sql_types::Uuid, _>($row.user_id)
            .bind::<Bytea, _>(&$row.refresh_hash)
            .bind::<Timestamptz, _>($row.created_at)
            .bind::<Timestamptz, _>($row.last_used_at)
            .bind::<Timestamptz, _>($row.expires_at)
            .bind::<Nullable<Timestamptz>, _>($row.revoked_at)
            .bind::<Nullable<Inet>, _>($row.ip)
            .bind::<Nullable<Text>, _>(&$row.user_agent)
            .bind::<Array<Text>, _>(&$row.auth_methods)
    };
}

/// Stores `session` within `limit` and records `device`, in one statement.
pub(crate) async fn create_on_device(
    pool: &PgPool,
    session: &Session,
    limit: usize,
    device: DeviceSignIn<'_>,
) -> Result<OpenedOnDevice, PortError> {
    const ACTION: &str = "creating a session and recording its device";
    let session_row = SessionRow::from(session);
    let sessions_kept = keeping_others(OPEN_WITHIN_LIMIT, limit);
    let touched = match device {
        DeviceSignIn::New { device, limit: device_limit, checks_count_since } => {
            let text = sessions_kept + &keeping_others(NEW_DEVICE, device_limit);
            let device_row = DeviceRow::from(device);
            pool.run(ACTION, async |connection| {
                let query = bind_session!(diesel::sql_query(&text), session_row)
                    .bind::<sql_types::Uuid, _>(device_row.id)
                    .bind::<sql_types::Uuid, _>(device_row.user_id)
                    .bind::<Bytea, _>(&device_row.token_hash)
                    .bind::<Text, _>(&device_row.client)
                    .bind::<Timestamptz, _>(device_row.created_at)
                    .bind::<Timestamptz, _>(device_row.last_used_at)
                    .bind::<Nullable<Timestamptz>, _>(device_row.code_verified_at)
                    .bind::<Nullable<Timestamptz>, _>(device_row.revoked_at)
                    .bind::<Nullable<Inet>, _>(device_row.ip)
                    .bind::<Nullable<Text>, _>(&device_row.user_agent)
                    .bind::<Timestamptz, _>(checks_count_since);
                Prepared(query).load::<Touched>(connection).await
            })
            .await?
        }
        DeviceSignIn::Known { id, code_checked } => {
            let text = sessions_kept + KNOWN_DEVICE;
            pool.run(ACTION, async |connection| {
                let query = bind_session!(diesel::sql_query(&text), session_row)
                    .bind::<sql_types::Uuid, _>(id.as_uuid())
                    .bind::<Bool, _>(code_checked);
                Prepared(query).load::<Touched>(connection).await
            })
            .await?
        }
    };
    let mut ended = Vec::new();
    let mut devices = Vec::new();
    for row in touched {
        match row.part.as_str() {
            "session" => ended.push(SessionId::from_uuid(row.id)),
            _ => devices.push(DeviceId::from_uuid(row.id)),
        }
    }
    let device = match device {
        DeviceSignIn::Known { .. } => DeviceRecorded::Known(!devices.is_empty()),
        DeviceSignIn::New { .. } => DeviceRecorded::New(devices),
    };
    Ok(OpenedOnDevice { ended, device })
}
