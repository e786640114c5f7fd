//! Hand-written statements kept prepared like the ones diesel builds.
//!
//! diesel marks every `sql_query` as unsafe to keep prepared, so each run of one is
//! parsed and planned afresh: for the two statements of every sign-in that was a fifth
//! of their time in PostgreSQL. A statement whose text is fixed for the process is safe
//! to keep: [`Prepared`] says so, and the connection's statement cache then keys it by
//! its text. Without the cache (behind a transaction pooler) nothing changes.
//!
//! Kept prepared, a statement runs with a generic plan after its fifth run, made from
//! the table's statistics then, and made again after each (auto)analyze of the table
//! (an ANALYZE invalidates the plans that read it). Fine for tables that grow slowly
//! against their size (sessions, devices), with every number that shapes the plan (the
//! limit's `OFFSET`) written into the text; not for a queue that swings from empty to
//! tens of thousands of rows between two analyzes (the outboxes' claims stay
//! unprepared; the mail outbox's insert, whose plan reads no table, is kept).

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
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    use otp_core::crypto::TokenHash;
    use otp_core::domain::{AuthMethod, Session, User};
    use otp_core::ports::{SessionRepository, UserRepository};
    use otp_core::{EmailAddress, SessionId};
    use otp_test_support::TestDatabase;
    use time::OffsetDateTime;

    use crate::{PgConfig, PgSessionRepository, PgUserRepository, build_pool};

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }

    #[tokio::test]
    async fn a_sign_in_statement_run_three_times_is_prepared_once_on_its_connection() {
        let database = TestDatabase::migrated().await;
        let pool = build_pool(&PgConfig { max_connections: 1, ..PgConfig::new(database.url()) }).unwrap();
        let now = OffsetDateTime::now_utc();
        let user = User::new_verified(EmailAddress::parse("prepared@example.com").unwrap(), now);
        PgUserRepository::new(pool.clone()).create(&user).await.unwrap();
        let sessions = PgSessionRepository::new(pool.clone());
        for _ in 0..3 {
            let session = Session {
                id: SessionId::generate(),
                user_id: user.id,
                refresh_hash: TokenHash::from_bytes([7; 32]),
                created_at: now,
                last_used_at: now,
                expires_at: now + time::Duration::days(30),
                revoked_at: None,
                ip: None,
                user_agent: None,
                auth_methods: vec![AuthMethod::Otp],
            };
            sessions.create_within_limit(&session, 2).await.unwrap();
        }
        // The pool's one connection: its named statements, as the server sees them.
        let prepared = pool
            .run("counting prepared statements", async |connection| {
                diesel::sql_query(
                    "SELECT count(*) AS count FROM pg_prepared_statements WHERE statement LIKE 'WITH opened%'",
                )
                .get_result::<Count>(connection)
                .await
            })
            .await
            .unwrap();
        assert_eq!(prepared.count, 1);
    }
}
