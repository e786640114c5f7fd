//! The mail outbox in the `mail_outbox` table, shared by every instance.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{self, Array, BigInt, Integer, Interval, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use otp_core::PortError;
use otp_core::domain::OutboxId;
use otp_core::ports::{ClaimedMessage, MailOutbox, NewOutboxMessage};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::corrupt;
use crate::pool::PgPool;
use crate::prepared::Prepared;
use crate::rounds::{RoundWork, Rounds};
use crate::schema::mail_outbox;

/// A queued message's row.
struct NewRow {
    id: Uuid,
    sealed: String,
    queued_at: OffsetDateTime,
    available_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    attempts: i32,
}

/// Queued messages, written by group commit.
struct Enqueued;

impl RoundWork for Enqueued {
    type Call = NewRow;
    type Answer = ();
    const ACTION: &'static str = "queueing mail";
    const ONE_STATEMENT: bool = true;

    async fn serve(connection: &mut AsyncPgConnection, rows: &[NewRow]) -> QueryResult<Vec<()>> {
        // Every round, whatever its size, is this one text, kept prepared: a multi-row
        // `VALUES` was planned afresh at each round (its text depends on the count).
        // An insert's plan does not depend on how full the outbox is.
        const INSERT: &str = "INSERT INTO mail_outbox (id, sealed, queued_at, available_at, expires_at, attempts) \
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], \
            $5::timestamptz[], $6::int4[])";
        let column = |value: fn(&NewRow) -> OffsetDateTime| rows.iter().map(value).collect::<Vec<_>>();
        Prepared(
            diesel::sql_query(INSERT)
                .bind::<Array<sql_types::Uuid>, _>(rows.iter().map(|row| row.id).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(rows.iter().map(|row| row.sealed.as_str()).collect::<Vec<_>>())
                .bind::<Array<Timestamptz>, _>(column(|row| row.queued_at))
                .bind::<Array<Timestamptz>, _>(column(|row| row.available_at))
                .bind::<Array<Timestamptz>, _>(column(|row| row.expires_at))
                .bind::<Array<Integer>, _>(rows.iter().map(|row| row.attempts).collect::<Vec<_>>()),
        )
        .execute(connection)
        .await?;
        Ok(vec![(); rows.len()])
    }
}

#[derive(QueryableByName)]
#[diesel(table_name = mail_outbox, check_for_backend(diesel::pg::Pg))]
struct ClaimedRow {
    id: Uuid,
    sealed: String,
    expires_at: OffsetDateTime,
    attempts: i32,
}

/// Claims due rows oldest first. `FOR UPDATE SKIP LOCKED` lets concurrent claimers
/// (other instances) pass over each other's rows instead of waiting or sharing them.
const CLAIM: &str = "\
    UPDATE mail_outbox SET available_at = $1 + $2, attempts = attempts + 1 \
    WHERE id IN ( \
        SELECT id FROM mail_outbox WHERE available_at <= $1 \
        ORDER BY available_at, queued_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
    RETURNING id, sealed, expires_at, attempts";

/// A claim statement with its binds: `$1` now, `$2` the lease, `$3` the limit.
///
/// Deliberately not [`Prepared`](crate::prepared::Prepared): an outbox swings from
/// empty to tens of thousands of rows within seconds, and a plan kept from when it was
/// empty scans every row (measured: 0.78 ms a claim during a send-otp burst, against
/// 0.1 ms planned afresh each time).
pub(crate) fn claim_query(
    sql: &'static str,
    now: OffsetDateTime,
    lease: Duration,
    limit: usize,
) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    let lease = diesel::data_types::PgInterval::from_microseconds(
        i64::try_from(lease.as_micros()).unwrap_or(i64::MAX),
    );
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Timestamptz, _>(now)
        .bind::<Interval, _>(lease)
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
}

/// PostgreSQL [`MailOutbox`]: messages survive restarts and are shared by every
/// instance; a claim leases rows with `FOR UPDATE SKIP LOCKED`. Messages queued at the
/// same time are inserted together (group commit: one multi-row insert per round of
/// those waiting, committed on its own without `BEGIN`/`COMMIT` round trips unless the
/// statement cache is off); `enqueue` returns once its message is committed.
#[derive(Debug, Clone)]
pub struct PgOutbox {
    pool: PgPool,
    enqueued: Arc<Rounds<Enqueued>>,
}

impl PgOutbox {
    /// An outbox on `pool`. Made inside a Tokio runtime, its group-commit task runs
    /// there; otherwise on the runtime of the first `enqueue`.
    pub fn new(pool: PgPool) -> Self {
        Self { enqueued: Arc::new(Rounds::new(pool.clone())), pool }
    }
}

#[async_trait]
impl MailOutbox for PgOutbox {
    async fn enqueue(&self, message: &NewOutboxMessage) -> Result<(), PortError> {
        self.enqueued
            .call(NewRow {
                id: message.id.as_uuid(),
                sealed: message.sealed.clone(),
                queued_at: message.queued_at,
                available_at: message.leased_until.unwrap_or(message.queued_at),
                expires_at: message.expires_at,
                attempts: i32::from(message.leased_until.is_some()),
            })
            .await
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, PortError> {
        const ACTION: &str = "claiming queued mail";
        let claim = claim_query(CLAIM, now, lease, limit);
        let rows: Vec<ClaimedRow> =
            self.pool.run(ACTION, async |connection| claim.load(connection).await).await?;
        let mut claimed: Vec<ClaimedMessage> = rows
            .into_iter()
            .map(|row| {
                let attempts =
                    u32::try_from(row.attempts).map_err(|_| corrupt(ACTION, "negative attempt count"))?;
                Ok(ClaimedMessage {
                    id: OutboxId::from_uuid(row.id),
                    sealed: row.sealed,
                    expires_at: row.expires_at,
                    attempts,
                })
            })
            .collect::<Result<_, PortError>>()?;
        // RETURNING does not keep the sub-select's order; v7 ids sort by queueing time.
        claimed.sort_by_key(|message| message.id);
        Ok(claimed)
    }

    async fn complete(&self, id: OutboxId) -> Result<(), PortError> {
        const ACTION: &str = "removing delivered mail";
        self.pool
            .run(ACTION, async |connection| {
                diesel::delete(mail_outbox::table.find(id.as_uuid())).execute(connection).await
            })
            .await?;
        Ok(())
    }

    async fn complete_all(&self, ids: &[OutboxId]) -> Result<(), PortError> {
        const ACTION: &str = "removing delivered mail";
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<uuid::Uuid> = ids.iter().map(OutboxId::as_uuid).collect();
        self.pool
            .run(ACTION, async |connection| {
                diesel::delete(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError> {
        const ACTION: &str = "scheduling a mail retry";
        self.pool
            .run(ACTION, async |connection| {
                diesel::update(mail_outbox::table.find(id.as_uuid()))
                    .set(mail_outbox::available_at.eq(at))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn release(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), PortError> {
        const ACTION: &str = "releasing claimed mail";
        self.pool
            .run(ACTION, async |connection| {
                diesel::update(mail_outbox::table.find(id.as_uuid()))
                    .set((
                        mail_outbox::available_at.eq(now),
                        mail_outbox::attempts
                            .eq(diesel::dsl::sql::<diesel::sql_types::Int4>("GREATEST(attempts - 1, 0)")),
                    ))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn depth(&self) -> Result<u64, PortError> {
        const ACTION: &str = "counting queued mail";
        let count: i64 = self
            .pool
            .run(ACTION, async |connection| mail_outbox::table.count().get_result(connection).await)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
