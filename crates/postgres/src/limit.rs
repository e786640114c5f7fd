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

/// `statement` with its `$KEPT` replaced by how many of the account's other rows a
/// limit of `limit` keeps beside the new one (which always stays, so a limit below one
/// counts as one): the `OFFSET` of the sub-select. Written into the text, not bound, so
/// that the plan kept for the prepared statement knows it; the limit is a setting, one
/// value per process.
pub(crate) fn keeping_others(statement: &str, limit: usize) -> String {
    statement.replacen("$KEPT", &(limit.max(1) - 1).to_string(), 1)
}
