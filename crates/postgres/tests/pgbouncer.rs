//! The port contract suites through PgBouncer in transaction pooling mode (Debian's
//! PgBouncer 1.18, which keeps no prepared statement across transactions), with the
//! pools' statement cache off, and what only a pooler shows: many clients sharing two
//! server connections, each transaction possibly on another one.
//!
//! Needs PostgreSQL (`TEST_DATABASE_URL`, as the other suites) and the `pgbouncer`
//! binary, which the nextest setup script `pgbouncer-tools` installs. Each test starts
//! its own PgBouncer on a free port and makes its own database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bouncer;

mod users {
    otp_core::user_repository_contract!(super::bouncer::users());

    mod first_sign_in {
        otp_core::user_repository_first_sign_in_contract!(super::super::bouncer::first_sign_ins());
    }
}

mod sessions {
    otp_core::session_repository_contract!(super::bouncer::sessions());
}

mod sessions_on_devices {
    otp_core::session_on_device_contract!(super::bouncer::first_sign_ins());
}

mod account_standing {
    otp_core::user_repository_standing_contract!(super::bouncer::first_sign_ins());
}

mod devices {
    otp_core::device_repository_contract!(super::bouncer::devices());
}

mod identities {
    otp_core::identity_repository_contract!(super::bouncer::identities());
}

mod outbox {
    otp_core::mail_outbox_contract!(super::bouncer::outbox());
}

mod audit {
    otp_core::audit_log_contract!(super::bouncer::audit_log());
}

mod through_pgbouncer {
    use std::sync::Arc;
    use std::time::Duration;

    use otp_core::SessionId;
    use otp_core::crypto::KeyedHasher;
    use otp_core::domain::{Session, User};
    use otp_core::ports::{Probe, RotateOutcome, SessionRepository, UserRepository};
    use otp_core::testing::{instant, unique_email};
    use otp_postgres::{PgProbe, PgSessionRepository, PgUserRepository};

    use super::bouncer::{Behind, SERVER_CONNECTIONS};

    /// One row of PgBouncer's `SHOW <what>` for `database`, as column → value.
    async fn console_row(behind: &Behind, what: &str, database: &str) -> Vec<(String, String)> {
        let (client, connection) =
            tokio_postgres::connect(&behind.bouncer.url_of("pgbouncer"), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        let messages = client.simple_query(&format!("SHOW {what}")).await.unwrap();
        messages
            .into_iter()
            .find_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) if row.get("database") == Some(database) => {
                    Some(
                        row.columns()
                            .iter()
                            .enumerate()
                            .map(|(index, column)| {
                                (column.name().to_owned(), row.get(index).unwrap_or_default().to_owned())
                            })
                            .collect(),
                    )
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {what} row for {database}"))
    }

    fn number(row: &[(String, String)], column: &str) -> u64 {
        row.iter().find(|(name, _)| name == column).map(|(_, value)| value.parse().unwrap()).unwrap()
    }

    /// Sixteen client connections on two server connections: with a statement kept
    /// across transactions, most of these would meet "prepared statement does not exist".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hundreds_of_concurrent_calls_on_two_server_connections_all_succeed() {
        let behind = Behind::with_pool_size(16).await;
        let users = Arc::new(PgUserRepository::new(behind.pool.clone()));
        let sessions = Arc::new(PgSessionRepository::new(behind.pool.clone()));
        let now = instant();
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (users, sessions) = (Arc::clone(&users), Arc::clone(&sessions));
                tokio::spawn(async move {
                    let account = User::new_verified(unique_email(), now);
                    users.create(&account).await.unwrap();
                    assert_eq!(users.find_by_email(&account.email).await.unwrap().unwrap().id, account.id);
                    let hasher = KeyedHasher::new(&[1; 32]).unwrap();
                    let (first, second) = (hasher.token_hash("first"), hasher.token_hash("second"));
                    let session = Session {
                        id: SessionId::generate(),
                        user_id: account.id,
                        refresh_hash: first,
                        created_at: now,
                        expires_at: now + Duration::from_secs(3600),
                        last_used_at: now,
                        revoked_at: None,
                        ip: None,
                        user_agent: None,
                        auth_methods: Vec::new(),
                    };
                    sessions.create(&session).await.unwrap();
                    let expires = now + Duration::from_secs(7200);
                    let rotated =
                        sessions.rotate_refresh(session.id, &first, &second, now, expires).await.unwrap();
                    assert!(matches!(rotated, RotateOutcome::Rotated(_)), "{rotated:?}");
                    assert_eq!(users.find_by_id(account.id).await.unwrap().unwrap().email, account.email);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }

        let database = behind.db_name();
        let pools = console_row(&behind, "POOLS", &database).await;
        let servers = number(&pools, "sv_active") + number(&pools, "sv_idle") + number(&pools, "sv_used");
        assert!(servers <= SERVER_CONNECTIONS as u64, "{servers} server connections: {pools:?}");
        let stats = console_row(&behind, "STATS", &database).await;
        // Four calls of each task are a transaction of their own; the look-ups by
        // address made at the same time share one.
        assert!(number(&stats, "total_xact_count") >= 400, "the calls went elsewhere: {stats:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_reports_the_database_ready_through_pgbouncer() {
        let behind = Behind::new().await;
        let probe = PgProbe::new(behind.pool.clone());
        for _ in 0..5 {
            probe.check().await.unwrap();
        }
    }
}
