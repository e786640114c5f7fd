//! The webhook outbox in the `webhook_outbox` table, shared by every instance.

use std::time::Duration;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use otp_core::PortError;
use otp_core::domain::{EventId, OutboxId};
use otp_core::ports::{ClaimedWebhook, NewWebhook, WebhookOutbox};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::corrupt;
use crate::outbox::claim_query;
use crate::pool::PgPool;
use crate::schema::webhook_outbox;

#[derive(Insertable)]
#[diesel(table_name = webhook_outbox, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
struct NewRow<'a> {
    id: Uuid,
    event_id: Uuid,
    user_id: Uuid,
    endpoint: &'a str,
    payload: &'a str,
    queued_at: OffsetDateTime,
    available_at: OffsetDateTime,
}

#[derive(QueryableByName)]
#[diesel(table_name = webhook_outbox, check_for_backend(diesel::pg::Pg))]
struct ClaimedRow {
    seq: i64,
    id: Uuid,
    event_id: Uuid,
    endpoint: String,
    payload: String,
    attempts: i32,
}

/// Claims due rows in queueing order, each only when no earlier row of its account and
/// endpoint is left (delivered rows are deleted; a leased or deferred one still holds
/// its place). `FOR UPDATE SKIP LOCKED` lets concurrent claimers pass over each
/// other's rows; a row behind a locked one is held back by the `NOT EXISTS`.
const CLAIM: &str = "\
    UPDATE webhook_outbox SET available_at = $1 + $2, attempts = attempts + 1 \
    WHERE seq IN ( \
        SELECT w.seq FROM webhook_outbox w WHERE w.available_at <= $1 \
        AND NOT EXISTS (SELECT 1 FROM webhook_outbox e \
            WHERE e.user_id = w.user_id AND e.endpoint = w.endpoint AND e.seq < w.seq) \
        ORDER BY w.seq LIMIT $3 FOR UPDATE SKIP LOCKED) \
    RETURNING seq, id, event_id, endpoint, payload, attempts";

/// PostgreSQL [`WebhookOutbox`]: deliveries survive restarts and are shared by every
/// instance.
#[derive(Debug, Clone)]
pub struct PgWebhookOutbox {
    pool: PgPool,
}

impl PgWebhookOutbox {
    /// An outbox on `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl WebhookOutbox for PgWebhookOutbox {
    async fn enqueue(&self, deliveries: &[NewWebhook]) -> Result<(), PortError> {
        const ACTION: &str = "queueing webhook deliveries";
        let rows: Vec<NewRow<'_>> = deliveries
            .iter()
            .map(|delivery| NewRow {
                id: delivery.id.as_uuid(),
                event_id: delivery.event_id.as_uuid(),
                user_id: delivery.user_id.as_uuid(),
                endpoint: &delivery.endpoint,
                payload: &delivery.payload,
                queued_at: delivery.queued_at,
                available_at: delivery.queued_at,
            })
            .collect();
        // One statement: all rows or none, `seq` in the order given.
        self.pool
            .run(ACTION, async |connection| {
                diesel::insert_into(webhook_outbox::table).values(&rows).execute(connection).await
            })
            .await?;
        Ok(())
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedWebhook>, PortError> {
        const ACTION: &str = "claiming webhook deliveries";
        let claim = claim_query(CLAIM, now, lease, limit);
        let mut rows: Vec<ClaimedRow> =
            self.pool.run(ACTION, async |connection| claim.load(connection).await).await?;
        // RETURNING does not keep the sub-select's order.
        rows.sort_by_key(|row| row.seq);
        rows.into_iter()
            .map(|row| {
                let attempts =
                    u32::try_from(row.attempts).map_err(|_| corrupt(ACTION, "negative attempt count"))?;
                Ok(ClaimedWebhook {
                    id: OutboxId::from_uuid(row.id),
                    event_id: EventId::from_uuid(row.event_id),
                    endpoint: row.endpoint,
                    payload: row.payload,
                    attempts,
                })
            })
            .collect()
    }

    async fn complete(&self, id: OutboxId) -> Result<(), PortError> {
        const ACTION: &str = "removing a delivered webhook";
        self.pool
            .run(ACTION, async |connection| {
                diesel::delete(webhook_outbox::table.filter(webhook_outbox::id.eq(id.as_uuid())))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError> {
        const ACTION: &str = "scheduling a webhook retry";
        self.pool
            .run(ACTION, async |connection| {
                diesel::update(webhook_outbox::table.filter(webhook_outbox::id.eq(id.as_uuid())))
                    .set(webhook_outbox::available_at.eq(at))
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn depth(&self) -> Result<u64, PortError> {
        const ACTION: &str = "counting queued webhooks";
        let count: i64 = self
            .pool
            .run(ACTION, async |connection| webhook_outbox::table.count().get_result(connection).await)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}
