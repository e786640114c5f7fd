//! Deleting a bounded batch of ended rows, for the retention purge.

use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::RunQueryDsl;
use otp_core::PortError;
use time::OffsetDateTime;

use crate::pool::PgPool;

/// Runs `statement`, a `DELETE` whose `$1` is the cut-off and `$2` the most rows it
/// may delete; how many it deleted. Kept as SQL: diesel cannot delete through a
/// limited sub-select.
pub(crate) async fn purge_batch(
    pool: &PgPool,
    action: &'static str,
    statement: &'static str,
    before: OffsetDateTime,
    limit: usize,
) -> Result<u64, PortError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let deleted = pool
        .run(action, async |connection| {
            diesel::sql_query(statement)
                .bind::<Timestamptz, _>(before)
                .bind::<BigInt, _>(limit)
                .execute(connection)
                .await
        })
        .await?;
    Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
}
