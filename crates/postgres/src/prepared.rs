//! Hand-written statements kept prepared like the ones diesel builds.
//!
//! diesel marks every `sql_query` as unsafe to keep prepared, so each run of one is
//! parsed and planned afresh: for the statements on the sign-in and mail paths that was
//! a fifth of their time in PostgreSQL. A statement whose text never changes (every
//! value a bind) is safe to keep: [`Prepared`] says so, and the connection's statement
//! cache then keys it by its text. Without the cache (behind a transaction pooler)
//! nothing changes.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

/// `Q`, a statement of fixed text with its binds, kept prepared on its connection.
pub(crate) struct Prepared<Q>(pub(crate) Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: the statement cache keys the statement by its text.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    use otp_core::ports::MailOutbox;
    use otp_test_support::TestDatabase;
    use time::OffsetDateTime;

    use crate::{PgConfig, PgOutbox, build_pool};

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }

    #[tokio::test]
    async fn a_claim_run_three_times_is_prepared_once_on_its_connection() {
        let database = TestDatabase::migrated().await;
        let pool = build_pool(&PgConfig { max_connections: 1, ..PgConfig::new(database.url()) }).unwrap();
        let outbox = PgOutbox::new(pool.clone());
        for _ in 0..3 {
            outbox.claim(OffsetDateTime::now_utc(), 16, Duration::from_secs(60)).await.unwrap();
        }
        // The pool's one connection: its named statements, as the server sees them.
        let prepared = pool
            .run("counting prepared statements", async |connection| {
                diesel::sql_query(
                    "SELECT count(*) AS count FROM pg_prepared_statements WHERE statement LIKE 'UPDATE mail_outbox%'",
                )
                .get_result::<Count>(connection)
                .await
            })
            .await
            .unwrap();
        assert_eq!(prepared.count, 1);
    }
}
