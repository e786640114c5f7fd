//! What the statements that keep an account within its session or device limit
//! return: the id of each row they ended.

use diesel::QueryableByName;
use diesel::sql_types::Uuid as SqlUuid;
use uuid::Uuid;

/// One row ended to make room (`RETURNING id`).
#[derive(QueryableByName)]
pub(crate) struct EndedId {
    #[diesel(sql_type = SqlUuid)]
    pub(crate) id: Uuid,
}

/// How many of the account's other rows a limit of `limit` keeps beside the new one
/// (which always stays, so a limit below one counts as one): the statements' `OFFSET`.
pub(crate) fn kept_others(limit: usize) -> i64 {
    i64::try_from(limit.max(1) - 1).unwrap_or(i64::MAX)
}
