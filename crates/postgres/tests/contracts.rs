//! The port contract suites, run against the PostgreSQL adapters, and the set-up
//! functions (database creation, migrations, time-outs) against a real server.
//!
//! Needs PostgreSQL: `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test makes and drops its own
//! database. When the server cannot be reached, the tests fail and say so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use otp_core::ports::{
    AuditLog, DeviceRepository, IdentityRepository, MailOutbox, SessionRepository, UserRepository,
};
use otp_core::testing::{AccountStorage, WithOwners};
use otp_postgres::{
    PgAuditLog, PgDeviceRepository, PgIdentityRepository, PgOutbox, PgPool, PgSessionRepository,
    PgUserRepository,
};
use otp_test_support::TestDatabase;

/// A migrated database of the test's own, and a pool on it.
async fn test_database() -> (TestDatabase, PgPool) {
    let database = TestDatabase::migrated().await;
    let pool = database.pool().await;
    (database, pool)
}

/// The account, session and device stores on a migrated database of the test's own.
async fn account_storage() -> (AccountStorage, TestDatabase) {
    let (database, pool) = test_database().await;
    let storage = AccountStorage {
        users: Arc::new(PgUserRepository::new(pool.clone())),
        sessions: Arc::new(PgSessionRepository::new(pool.clone())),
        devices: Arc::new(PgDeviceRepository::new(pool)),
    };
    (storage, database)
}

mod users {
    use super::*;
    otp_core::user_repository_contract!(async {
        let (database, pool) = test_database().await;
        (Arc::new(PgUserRepository::new(pool)) as Arc<dyn UserRepository>, database)
    });

    mod first_sign_in {
        use super::*;
        otp_core::user_repository_first_sign_in_contract!(account_storage());
    }
}

mod sessions {
    use super::*;
    otp_core::session_repository_contract!(async {
        let (database, pool) = test_database().await;
        let sessions: Arc<dyn SessionRepository> = Arc::new(PgSessionRepository::new(pool.clone()));
        (WithOwners::new(sessions, Arc::new(PgUserRepository::new(pool))), database)
    });
}

mod sessions_on_devices {
    use super::*;
    otp_core::session_on_device_contract!(account_storage());
}

mod account_standing {
    use super::*;
    otp_core::user_repository_standing_contract!(account_storage());
}

mod devices {
    use super::*;
    otp_core::device_repository_contract!(async {
        let (database, pool) = test_database().await;
        let devices: Arc<dyn DeviceRepository> = Arc::new(PgDeviceRepository::new(pool.clone()));
        (WithOwners::new(devices, Arc::new(PgUserRepository::new(pool))), database)
    });
}

mod identities {
    use super::*;
    otp_core::identity_repository_contract!(async {
        let (database, pool) = test_database().await;
        let identities: Arc<dyn IdentityRepository> = Arc::new(PgIdentityRepository::new(pool.clone()));
        (WithOwners::new(identities, Arc::new(PgUserRepository::new(pool))), database)
    });
}

mod outbox {
    use super::*;
    otp_core::mail_outbox_contract!(async {
        let (database, pool) = test_database().await;
        (Arc::new(PgOutbox::new(pool)) as Arc<dyn MailOutbox>, database)
    });
}

mod webhooks {
    use super::*;
    use otp_core::ports::WebhookOutbox;
    use otp_postgres::PgWebhookOutbox;
    otp_core::webhook_outbox_contract!(async {
        let (database, pool) = test_database().await;
        (Arc::new(PgWebhookOutbox::new(pool)) as Arc<dyn WebhookOutbox>, database)
    });
}

/// The audit log needs no owners: it keeps ids of accounts that may be gone.
mod audit {
    use super::*;
    otp_core::audit_log_contract!(async {
        let (database, pool) = test_database().await;
        (Arc::new(PgAuditLog::new(pool)) as Arc<dyn AuditLog>, database)
    });
}

mod setup {
    use diesel_async::AsyncPgConnection;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    use diesel_migrations::MigrationHarness;
    use otp_postgres::{MIGRATIONS, PgError, create_database_if_missing, run_migrations};

    use otp_test_support::{TestDatabase, fresh_database_name};

    async fn tables(db: &TestDatabase) -> Vec<String> {
        use diesel::sql_types::Text;
        use diesel_async::{AsyncConnection, RunQueryDsl};

        #[derive(diesel::QueryableByName)]
        struct Table {
            #[diesel(sql_type = Text)]
            tablename: String,
        }
        let mut connection = AsyncPgConnection::establish(db.url()).await.unwrap();
        let rows: Vec<Table> = diesel::sql_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .load(&mut connection)
        .await
        .unwrap();
        rows.into_iter().map(|row| row.tablename).collect()
    }

    /// Plain `#[tokio::test]`: a current-thread runtime, where diesel's own async
    /// migration harness would panic.
    #[tokio::test]
    async fn migrations_run_twice_are_a_no_op() {
        let db = TestDatabase::migrated().await;
        assert_eq!(
            tables(&db).await,
            [
                "__diesel_schema_migrations",
                "audit_log",
                "devices",
                "identities",
                "mail_outbox",
                "sessions",
                "users",
                "webhook_outbox"
            ]
        );
        let again = run_migrations(db.url()).await.unwrap();
        assert!(again.is_empty(), "applied again: {again:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_migrations_apply_each_migration_once() {
        let db = TestDatabase::empty().await;
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let url = db.url().to_owned();
                tokio::spawn(async move { run_migrations(&url).await })
            })
            .collect();
        let mut applied = Vec::new();
        for run in runs {
            applied.extend(run.await.unwrap().unwrap());
        }
        assert_eq!(applied.len(), migrations_count(), "{applied:?}");
    }

    /// One per folder of `migrations/`.
    fn migrations_count() -> usize {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        std::fs::read_dir(folder).unwrap().filter(|entry| entry.as_ref().unwrap().path().is_dir()).count()
    }

    #[tokio::test]
    async fn down_migrations_revert_cleanly() {
        let db = TestDatabase::migrated().await;
        let url = db.url().to_owned();
        let reverted = tokio::task::spawn_blocking(move || {
            let mut connection = AsyncConnectionWrapper::<AsyncPgConnection>::establish_blocking(&url);
            connection.revert_all_migrations(MIGRATIONS).map(|versions| versions.len()).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(reverted, migrations_count());
        assert_eq!(tables(&db).await, ["__diesel_schema_migrations"]);
        assert_eq!(run_migrations(db.url()).await.unwrap().len(), migrations_count());
        assert_eq!(
            tables(&db).await,
            [
                "__diesel_schema_migrations",
                "audit_log",
                "devices",
                "identities",
                "mail_outbox",
                "sessions",
                "users",
                "webhook_outbox"
            ]
        );
    }

    trait EstablishBlocking: Sized {
        fn establish_blocking(url: &str) -> Self;
    }

    impl EstablishBlocking for AsyncConnectionWrapper<AsyncPgConnection> {
        fn establish_blocking(url: &str) -> Self {
            <Self as diesel::Connection>::establish(url).unwrap()
        }
    }

    #[tokio::test]
    async fn create_database_if_missing_creates_then_tolerates_an_existing_one() {
        // A name that needs quoting: a double quote, a space and upper case.
        let name = format!("{} \"Quoted\"", fresh_database_name());
        let db = TestDatabase::reserved_as(name.clone()).await;
        let url = db.url().to_owned();
        let created = create_database_if_missing(&url).await;
        assert!(created.unwrap(), "the first call creates {name}");
        assert!(!create_database_if_missing(&url).await.unwrap(), "the second finds it");
        assert_eq!(run_migrations(db.url()).await.unwrap().len(), migrations_count());
        assert_eq!(
            tables(&db).await,
            [
                "__diesel_schema_migrations",
                "audit_log",
                "devices",
                "identities",
                "mail_outbox",
                "sessions",
                "users",
                "webhook_outbox"
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_creations_of_one_database_all_succeed() {
        let db = TestDatabase::reserved().await;
        let url = db.url().to_owned();
        let calls: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { create_database_if_missing(&url).await })
            })
            .collect();
        let mut created = 0;
        for call in calls {
            created += usize::from(call.await.unwrap().unwrap());
        }
        assert_eq!(created, 1);
    }

    #[tokio::test]
    async fn a_url_without_a_database_is_refused() {
        let error = create_database_if_missing("postgres://postgres@127.0.0.1:5432").await.unwrap_err();
        assert!(matches!(error, PgError::InvalidConfig(_)), "{error:?}");
    }
}

mod outage {
    use std::time::{Duration, Instant};

    use otp_core::ports::{Probe, UserRepository};
    use otp_core::{PortError, UserId};
    use otp_postgres::{PgConfig, PgError, PgProbe, PgUserRepository, build_pool, connect};

    const TIMEOUT: Duration = Duration::from_millis(500);

    fn config(url: &str) -> PgConfig {
        PgConfig { max_connections: 2, connect_timeout: TIMEOUT, wait_timeout: TIMEOUT, ..PgConfig::new(url) }
    }

    /// Longest acceptable: the wait plus two connection attempts, and slack.
    const BOUND: Duration = Duration::from_secs(3);

    /// Checks every way in fails promptly; returns what the port method said.
    async fn check_unavailable(url: &str) -> String {
        let pool = build_pool(&config(url)).unwrap();
        let users = PgUserRepository::new(pool.clone());
        let started = Instant::now();
        let error = users.find_by_id(UserId::generate()).await.unwrap_err();
        assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("finding a user by id"), "{error}");
        let found = error.to_string();

        let probe = PgProbe::new(pool);
        assert_eq!(probe.name(), "database");
        let started = Instant::now();
        let error = probe.check().await.unwrap_err();
        assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");

        let started = Instant::now();
        let error = connect(&config(url)).await.unwrap_err();
        assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
        assert!(matches!(error, PgError::Connect { .. }), "{error:?}");
        found
    }

    /// A server that accepts connections and never answers: its port, and the task to
    /// abort when done.
    async fn silent_server() -> (u16, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        (port, silent)
    }

    /// Nothing listens on port 1: connections are refused at once.
    #[tokio::test]
    async fn a_closed_port_makes_port_methods_unavailable_promptly() {
        let error = check_unavailable("postgres://postgres@127.0.0.1:1/otp").await;
        assert!(error.contains("refused"), "the cause is kept: {error}");
    }

    /// A server that accepts connections and never answers: only the connect
    /// time-out ends the wait.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_server_makes_port_methods_unavailable_within_the_timeout() {
        let (port, silent) = silent_server().await;
        let error = check_unavailable(&format!("postgres://postgres@127.0.0.1:{port}/otp")).await;
        assert!(error.contains("imeout"), "{error}");
        silent.abort();
    }

    /// Concurrent first sign-ins written together (group commit) against a server that
    /// never answers: every caller is told promptly, none waits a time-out per row.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_sign_ins_on_a_silent_server_all_fail_within_the_timeout() {
        let (port, silent) = silent_server().await;
        let pool = build_pool(&config(&format!("postgres://postgres@127.0.0.1:{port}/otp"))).unwrap();
        let users: std::sync::Arc<dyn UserRepository> = std::sync::Arc::new(PgUserRepository::new(pool));
        let started = Instant::now();
        let calls: Vec<_> = (0..40)
            .map(|_| {
                let users = std::sync::Arc::clone(&users);
                let (user, session, device) =
                    otp_core::testing::users::first_sign_in(otp_core::testing::unique_email());
                tokio::spawn(async move { users.create_with_first_sign_in(&user, &session, &device).await })
            })
            .collect();
        for call in calls {
            let error = call.await.unwrap().unwrap_err();
            assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        }
        assert!(started.elapsed() < BOUND * 2, "40 sign-ins took {:?}", started.elapsed());
        silent.abort();
    }

    #[tokio::test]
    async fn a_closed_pool_makes_port_methods_unavailable() {
        let pool = build_pool(&config("postgres://postgres@127.0.0.1:1/otp")).unwrap();
        pool.close();
        let error = PgUserRepository::new(pool).find_by_id(UserId::generate()).await.unwrap_err();
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    }

    #[tokio::test]
    async fn a_pool_of_no_connections_is_refused() {
        let error = build_pool(&PgConfig { max_connections: 0, ..PgConfig::new("postgres://x@localhost/y") })
            .unwrap_err();
        assert!(matches!(error, PgError::InvalidConfig(_)), "{error:?}");
    }

    #[test]
    fn the_url_never_prints() {
        let config = PgConfig::new("postgres://ann:hunter2@localhost/otp");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}

/// What the contract suites cannot see: the schema's own rules and recovery.
mod adapter {
    use std::sync::Arc;
    use std::time::Duration;

    use diesel::sql_types::Text;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
    use otp_core::crypto::KeyedHasher;
    use otp_core::domain::{Session, User};
    use otp_core::ports::{IdentityRepository, LinkedIdentity, Probe, SessionRepository, UserRepository};
    use otp_core::testing::{instant, unique_email};
    use otp_core::{EmailAddress, PortError, SessionId, UserId};
    use otp_postgres::{PgIdentityRepository, PgPool, PgProbe, PgSessionRepository, PgUserRepository};

    use otp_test_support::{TestDatabase, postgres_server_url};

    async fn execute(pool: &PgPool, sql: &str, text: &str) -> usize {
        let mut connection = pool.inner().get().await.unwrap();
        diesel::sql_query(sql).bind::<Text, _>(text).execute(&mut connection).await.unwrap()
    }

    fn session(user_id: UserId, ip: Option<std::net::IpAddr>) -> Session {
        let now = instant();
        Session {
            id: SessionId::generate(),
            user_id,
            refresh_hash: KeyedHasher::new(&[1; 32]).unwrap().token_hash("refresh"),
            created_at: now,
            last_used_at: now,
            expires_at: now + time::Duration::days(1),
            revoked_at: None,
            ip,
            user_agent: None,
            auth_methods: vec![otp_core::domain::AuthMethod::Otp],
        }
    }

    #[tokio::test]
    async fn addresses_are_unique_whatever_their_case_in_storage() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let users = PgUserRepository::new(pool.clone());
        execute(
            &pool,
            "INSERT INTO users (id, email, created_at, updated_at) VALUES (gen_random_uuid(), $1, now(), now())",
            "Ann.Lee@Example.COM",
        )
        .await;
        let ann = EmailAddress::parse("ann.lee@example.com").unwrap();
        let error = users.create(&User::new_verified(ann.clone(), instant())).await.unwrap_err();
        assert!(matches!(error, PortError::EmailTaken), "{error:?}");
        let found = users.find_by_email(&ann).await.unwrap().expect("found whatever the stored case");
        assert_eq!(found.email, ann);
    }

    #[tokio::test]
    async fn a_second_account_with_one_id_is_a_failure_not_a_taken_email() {
        let db = TestDatabase::migrated().await;
        let users = PgUserRepository::new(db.pool().await);
        let first = User::new_verified(unique_email(), instant());
        users.create(&first).await.unwrap();
        let same_id = User { email: unique_email(), ..first };
        let error = users.create(&same_id).await.unwrap_err();
        assert!(matches!(error, PortError::Failed(_)), "{error:?}");
        assert!(error.to_string().contains("creating a user"), "{error}");
    }

    #[tokio::test]
    async fn sessions_keep_ipv6_and_missing_addresses() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let sessions = PgSessionRepository::new(pool.clone());
        let user = User::new_verified(unique_email(), instant());
        PgUserRepository::new(pool).create(&user).await.unwrap();
        for ip in [Some("2001:db8::7".parse().unwrap()), Some("127.0.0.1".parse().unwrap()), None] {
            let stored = Session { user_agent: Some("agent ünïcode".into()), ..session(user.id, ip) };
            sessions.create(&stored).await.unwrap();
            assert_eq!(sessions.find(stored.id).await.unwrap(), Some(stored));
        }
    }

    #[tokio::test]
    async fn rows_of_unknown_accounts_are_refused_and_rows_go_with_their_account() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let (sessions, identities) =
            (PgSessionRepository::new(pool.clone()), PgIdentityRepository::new(pool.clone()));
        let owner = User::new_verified(unique_email(), instant());
        let stranger = owner.id;
        let error = sessions.create(&session(stranger, None)).await.unwrap_err();
        assert!(matches!(error, PortError::AccountGone), "{error:?}");
        let identity = LinkedIdentity {
            provider: "google".into(),
            subject: "123".into(),
            user_id: stranger,
            email: unique_email(),
            linked_at: instant(),
        };
        let error = identities.link(&identity).await.unwrap_err();
        assert!(matches!(error, PortError::AccountGone), "{error:?}");

        PgUserRepository::new(pool.clone()).create(&owner).await.unwrap();
        let kept = session(stranger, None);
        sessions.create(&kept).await.unwrap();
        identities.link(&identity).await.unwrap();
        let deleted =
            execute(&pool, "DELETE FROM users WHERE id::text = $1", &stranger.as_uuid().to_string()).await;
        assert_eq!(deleted, 1);
        assert_eq!(sessions.find(kept.id).await.unwrap(), None);
        assert_eq!(identities.find("google", "123").await.unwrap(), None);
    }

    #[tokio::test]
    async fn deleting_an_account_through_the_port_takes_its_sessions_and_identities() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let users = PgUserRepository::new(pool.clone());
        let (sessions, identities) =
            (PgSessionRepository::new(pool.clone()), PgIdentityRepository::new(pool.clone()));
        let (gone, kept) =
            (User::new_verified(unique_email(), instant()), User::new_verified(unique_email(), instant()));
        users.create(&gone).await.unwrap();
        users.create(&kept).await.unwrap();
        let (gone_session, kept_session) = (session(gone.id, None), session(kept.id, None));
        sessions.create(&gone_session).await.unwrap();
        sessions.create(&kept_session).await.unwrap();
        let identity = LinkedIdentity {
            provider: "google".into(),
            subject: "gone".into(),
            user_id: gone.id,
            email: gone.email.clone(),
            linked_at: instant(),
        };
        identities.link(&identity).await.unwrap();

        assert!(users.delete(gone.id).await.unwrap());
        assert_eq!(sessions.find(gone_session.id).await.unwrap(), None);
        assert_eq!(identities.find("google", "gone").await.unwrap(), None);
        assert_eq!(sessions.find(kept_session.id).await.unwrap(), Some(kept_session));
        assert_eq!(users.find_by_id(kept.id).await.unwrap(), Some(kept));
    }

    #[tokio::test]
    async fn a_role_the_domain_does_not_know_is_refused_by_the_schema() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let user = User::new_verified(unique_email(), instant());
        PgUserRepository::new(pool.clone()).create(&user).await.unwrap();
        let mut connection = pool.inner().get().await.unwrap();
        let refused = diesel::sql_query("UPDATE users SET role = 'root' WHERE email = $1")
            .bind::<Text, _>(user.email.as_str())
            .execute(&mut connection)
            .await;
        assert!(refused.unwrap_err().to_string().contains("users_role_check"));
    }

    /// Connections the server drops (a restart, an administrator) are replaced
    /// rather than handed out broken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_killed_by_the_server_are_replaced() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let users: Arc<dyn UserRepository> = Arc::new(PgUserRepository::new(pool.clone()));
        let user = User::new_verified(unique_email(), instant());
        users.create(&user).await.unwrap();
        {
            // Two connections in the pool, both idle once these go out of scope.
            let (first, second) = tokio::join!(pool.inner().get(), pool.inner().get());
            drop((first.unwrap(), second.unwrap()));
        }
        let mut admin = AsyncPgConnection::establish(&postgres_server_url()).await.unwrap();
        let killed =
            diesel::sql_query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
                .bind::<Text, _>(db.url().rsplit('/').next().unwrap())
                .execute(&mut admin)
                .await
                .unwrap();
        assert_eq!(killed, 2, "both pooled connections killed");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(users.find_by_id(user.id).await.unwrap(), Some(user));
        PgProbe::new(pool).check().await.unwrap();
    }

    /// The stores a sign-in writes to, on a test database of their own.
    struct SignInStores {
        _db: TestDatabase,
        sessions: Arc<PgSessionRepository>,
        devices: Arc<otp_postgres::PgDeviceRepository>,
        users: Arc<PgUserRepository>,
    }

    impl SignInStores {
        async fn new() -> Self {
            let db = TestDatabase::migrated().await;
            let pool = db.pool().await;
            Self {
                sessions: Arc::new(PgSessionRepository::new(pool.clone())),
                devices: Arc::new(otp_postgres::PgDeviceRepository::new(pool.clone())),
                users: Arc::new(PgUserRepository::new(pool)),
                _db: db,
            }
        }

        /// A sign-in of `device`'s account: a session created `later` after the
        /// others (newer sessions later, as in life: an index scan by creation time
        /// then meets them in another order than their ids) and a new device (`tag`
        /// makes its token; by its length's parity, both in one statement or one after
        /// the other), each within its limit of `limits`.
        fn sign_in(
            &self,
            device: &otp_core::domain::Device,
            tag: &str,
            later: Duration,
            limits: (usize, usize),
        ) -> impl Future<Output = Result<(), otp_core::PortError>> + Send + use<> {
            use otp_core::ports::DeviceRepository;
            let (sessions, devices) = (Arc::clone(&self.sessions), Arc::clone(&self.devices));
            let mut remembered = device.clone();
            remembered.id = otp_core::domain::DeviceId::generate();
            remembered.token_hash = KeyedHasher::new(&[2; 32]).unwrap().token_hash(tag);
            let mut opened = session(device.user_id, None);
            opened.created_at += later;
            opened.last_used_at = opened.created_at;
            // Every other one as a sign-in writes them now, in one statement
            // (`create_on_device`); the rest as two, as an instance of an older version
            // beside it does.
            let together = tag.len().is_multiple_of(2);
            async move {
                if together {
                    let change = otp_core::ports::DeviceSignIn::New {
                        device: &remembered,
                        limit: limits.1,
                        checks_count_since: instant(),
                    };
                    let opened = sessions.create_on_device(&opened, limits.0, change).await?;
                    assert!(opened.is_some(), "PostgreSQL writes both at once");
                    return Ok(());
                }
                sessions.create_within_limit(&opened, limits.0).await?;
                devices.create_within_limit(&remembered, limits.1, instant()).await.map(drop)
            }
        }
    }

    /// Sign-ins of one account at once, each pushing older sessions and devices past
    /// the limits, and among them a password reset and a "sign out everywhere", all
    /// succeed: every statement that ends several rows locks them in one order (by id),
    /// so concurrent ones wait for each other instead of deadlocking (a log-in flood on
    /// one account met `deadlock detected`, a 500).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_sign_ins_of_one_account_past_the_limits_all_succeed() {
        use otp_core::domain::PasswordHash;

        let stores = SignInStores::new().await;
        let (sessions, users) = (Arc::clone(&stores.sessions), Arc::clone(&stores.users));
        let (user, _, device) = otp_core::testing::users::first_sign_in(unique_email());
        users.create(&user).await.unwrap();
        let user_id = user.id;
        for round in 0..10_u64 {
            let calls: Vec<_> = (0..64_u64)
                .map(|index| {
                    let later = Duration::from_millis(round * 64 + index);
                    tokio::spawn(stores.sign_in(
                        &device,
                        &format!("device {round} {index}"),
                        later,
                        (100, 50),
                    ))
                })
                .collect();
            // Among them, the owner resets the password and signs out everywhere.
            let reset = tokio::spawn({
                let users = Arc::clone(&users);
                async move {
                    let hash =
                        PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned());
                    users.reset_password(user_id, &hash, instant()).await.map(drop)
                }
            });
            let everywhere = tokio::spawn({
                let sessions = Arc::clone(&sessions);
                async move { sessions.revoke_all_for_user(user_id, instant()).await.map(drop) }
            });
            for call in calls.into_iter().chain([reset, everywhere]) {
                call.await.unwrap().unwrap();
            }
        }
    }

    /// An account deleted while a flood of its sign-ins runs: each sign-in either
    /// succeeds or fails because the account is gone, never with a deadlock. A sign-in
    /// ends older sessions (locking them) and its new row's foreign key then waits for
    /// the account row; the delete holds that row and its cascade waits for the same
    /// sessions. Sign-ins and "sign out everywhere" (two of them among the sign-ins) now
    /// take the account row first, as the delete does.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deleting_an_account_during_a_flood_of_its_sign_ins_never_deadlocks() {
        let stores = SignInStores::new().await;
        let mut failures = Vec::new();
        for round in 0..12_u64 {
            let (user, _, device) = otp_core::testing::users::first_sign_in(unique_email());
            stores.users.create(&user).await.unwrap();
            let sign_in = |index: u64| {
                stores.sign_in(&device, &format!("{round} {index}"), Duration::from_millis(index), (2, 2))
            };
            // Enough sessions and devices that every sign-in ends some.
            for index in 0..8 {
                sign_in(index).await.unwrap();
            }
            let mut calls: Vec<_> = (8..40).map(|index| tokio::spawn(sign_in(index))).collect();
            let delete = {
                let users = Arc::clone(&stores.users);
                tokio::spawn(async move {
                    assert!(users.delete(user.id).await?, "the deletion removed the account");
                    Ok(())
                })
            };
            calls.insert(16, delete);
            // Around it, the owner signs out everywhere.
            for at in [12, 20] {
                let sessions = Arc::clone(&stores.sessions);
                calls.insert(
                    at,
                    tokio::spawn(
                        async move { sessions.revoke_all_for_user(user.id, instant()).await.map(drop) },
                    ),
                );
            }
            for call in calls {
                match call.await.unwrap() {
                    Ok(()) | Err(otp_core::PortError::AccountGone) => {}
                    Err(error) => failures.push(error.to_string()),
                }
            }
            assert_eq!(stores.users.find_by_id(user.id).await.unwrap(), None);
        }
        // The only failures: sign-ins that came after the deletion, told apart as such.
        assert!(failures.is_empty(), "{} other failures: {failures:?}", failures.len());
    }

    /// A sign-in's session and device stored for an account deleted meanwhile are
    /// refused as `AccountGone` (the sign-in then answers as for a disabled account),
    /// not as an unexpected failure (a plain session and a provider link:
    /// `rows_of_unknown_accounts_are_refused_and_rows_go_with_their_account`).
    #[tokio::test]
    async fn rows_of_an_account_deleted_meanwhile_are_refused_as_account_gone() {
        use otp_core::ports::DeviceRepository;

        let stores = SignInStores::new().await;
        let (user, _, device) = otp_core::testing::users::first_sign_in(unique_email());
        stores.users.create(&user).await.unwrap();
        assert!(stores.users.delete(user.id).await.unwrap());

        let error = stores.sessions.create_within_limit(&session(user.id, None), 4).await.unwrap_err();
        assert!(matches!(error, otp_core::PortError::AccountGone), "{error:?}");
        let error = stores.devices.create_within_limit(&device, 4, instant()).await.unwrap_err();
        assert!(matches!(error, otp_core::PortError::AccountGone), "{error:?}");
        // Both in one statement, with a new device or a remembered one.
        let new =
            otp_core::ports::DeviceSignIn::New { device: &device, limit: 4, checks_count_since: instant() };
        let known = otp_core::ports::DeviceSignIn::Known { id: device.id, code_checked: true };
        for change in [new, known] {
            let error =
                stores.sessions.create_on_device(&session(user.id, None), 4, change).await.unwrap_err();
            assert!(matches!(error, otp_core::PortError::AccountGone), "{change:?}: {error:?}");
        }
    }

    /// Look-ups by address made at the same time share statements. With the table
    /// locked, fifty look-ups wait in at most two statements (the rounds in flight; one
    /// per pooled connection before, eight here); once it is unlocked, each caller gets
    /// its own answer: its account whatever the case it is stored in, also when two ask
    /// for the same address, or none.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_look_ups_by_address_share_statements() {
        #[derive(diesel::QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            statements: i64,
        }
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let users: Arc<dyn UserRepository> = Arc::new(PgUserRepository::new(pool.clone()));
        let mut admin = AsyncPgConnection::establish(db.url()).await.unwrap();
        let mut asked = Vec::new();
        for index in 0..40 {
            let user = User::new_verified(unique_email(), instant());
            if index % 2 == 0 {
                users.create(&user).await.unwrap();
                // Stored in another case than it is asked in (as an import may store it).
                diesel::sql_query("UPDATE users SET email = upper(email) WHERE id = $1")
                    .bind::<diesel::sql_types::Uuid, _>(user.id.as_uuid())
                    .execute(&mut admin)
                    .await
                    .unwrap();
                if index % 4 == 0 {
                    // Asked twice in the same round.
                    asked.push((user.email.clone(), Some(user.clone())));
                }
                asked.push((user.email.clone(), Some(user)));
            } else {
                asked.push((user.email, None));
            }
        }
        admin.batch_execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await.unwrap();
        let calls: Vec<_> = asked
            .into_iter()
            .map(|(address, expected)| {
                let users = Arc::clone(&users);
                tokio::spawn(async move { (users.find_by_email(&address).await.unwrap(), expected) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS statements FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
        )
        .get_result(&mut admin)
        .await
        .unwrap();
        admin.batch_execute("COMMIT").await.unwrap();
        assert!((1..=2).contains(&waiting.statements), "{} statements waited", waiting.statements);
        for call in calls {
            let (found, expected) = call.await.unwrap();
            assert_eq!(found, expected);
        }
    }

    /// A look-up round that fails (here: every statement cut off by a 300 ms
    /// `statement_timeout` while the table is locked) answers each of its callers
    /// with the same kind of failure, not the first one `Failed` and the others
    /// `Unavailable` (a 500 for one request, a 503 for the others).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_callers_of_a_failed_look_up_round_fail_alike() {
        let db = TestDatabase::migrated().await;
        let config = otp_postgres::PgConfig {
            max_connections: 8,
            wait_timeout: Duration::from_secs(20),
            ..otp_postgres::PgConfig::new(format!("{}?options=-c%20statement_timeout%3D300", db.url()))
        };
        let users: Arc<dyn UserRepository> =
            Arc::new(PgUserRepository::new(otp_postgres::connect(&config).await.unwrap()));
        let mut admin = AsyncPgConnection::establish(db.url()).await.unwrap();
        admin.batch_execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await.unwrap();
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let users = Arc::clone(&users);
                tokio::spawn(async move { users.find_by_email(&unique_email()).await })
            })
            .collect();
        let mut kinds = std::collections::BTreeSet::new();
        for call in calls {
            let error = call.await.unwrap().unwrap_err();
            kinds.insert(if matches!(error, PortError::Unavailable(_)) { "unavailable" } else { "failed" });
        }
        admin.batch_execute("COMMIT").await.unwrap();
        assert_eq!(kinds.len(), 1, "the callers failed differently: {kinds:?}");
    }

    /// Runs 50 `write`s at once, each to succeed; then checks that `table` holds their 50
    /// rows and that fewer transactions than rows inserted them (distinct `xmin`): group
    /// commit wrote some together.
    async fn assert_committed_together<Fut>(pool: &PgPool, table: &str, write: impl Fn() -> Fut)
    where
        Fut: std::future::Future<Output = Result<(), PortError>> + Send + 'static,
    {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rows: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            transactions: i64,
        }
        let calls: Vec<_> = (0..50).map(|_| tokio::spawn(write())).collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        let mut connection = pool.inner().get().await.unwrap();
        let count: Count = diesel::sql_query(format!(
            "SELECT count(*) AS rows, count(DISTINCT xmin::text) AS transactions FROM {table}"
        ))
        .get_result(&mut connection)
        .await
        .unwrap();
        assert_eq!(count.rows, 50);
        assert!(
            count.transactions < 50,
            "{} rows of {table} in {} transactions",
            count.rows,
            count.transactions
        );
    }

    /// Concurrent first sign-ins share transactions (group commit).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_sign_ins_are_committed_together() {
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let users: Arc<dyn UserRepository> = Arc::new(PgUserRepository::new(pool.clone()));
        assert_committed_together(&pool, "sessions", || {
            let users = Arc::clone(&users);
            let (user, session, device) = otp_core::testing::users::first_sign_in(unique_email());
            async move { users.create_with_first_sign_in(&user, &session, &device).await }
        })
        .await;
    }

    /// Messages queued at the same time share transactions (group commit), and every
    /// one of them is stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_mail_is_queued_together() {
        use otp_core::domain::OutboxId;
        use otp_core::ports::{MailOutbox, NewOutboxMessage};

        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        let outbox: Arc<dyn MailOutbox> = Arc::new(otp_postgres::PgOutbox::new(pool.clone()));
        assert_committed_together(&pool, "mail_outbox", || {
            let outbox = Arc::clone(&outbox);
            let id = OutboxId::generate();
            let message = NewOutboxMessage {
                id,
                sealed: format!("v4.local.sealed-{id}"),
                expires_at: instant() + Duration::from_secs(600),
                queued_at: instant(),
                leased_until: None,
            };
            async move { outbox.enqueue(&message).await }
        })
        .await;
    }

    /// Hot-path inserts are prepared once per connection and kept: diesel caches an
    /// insert only when no value may turn into `DEFAULT`, so the rows insert `NULL` for
    /// `None` (every such column's default is `NULL`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inserts_are_prepared_once_per_connection() {
        #[derive(diesel::QueryableByName)]
        struct Prepared {
            #[diesel(sql_type = Text)]
            statement: String,
        }
        let db = TestDatabase::migrated().await;
        let pool = otp_postgres::connect(&otp_postgres::PgConfig {
            max_connections: 1,
            ..otp_postgres::PgConfig::new(db.url().to_owned())
        })
        .await
        .unwrap();
        let users = PgUserRepository::new(pool.clone());
        let sessions = PgSessionRepository::new(pool.clone());
        for _ in 0..3 {
            let user = User::new_verified(unique_email(), instant());
            users.create(&user).await.unwrap();
            sessions.create(&session(user.id, None)).await.unwrap();
        }
        let mut connection = pool.inner().get().await.unwrap();
        let prepared: Vec<Prepared> = diesel::sql_query(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO%' ORDER BY statement",
        )
        .load(&mut connection)
        .await
        .unwrap();
        let tables: Vec<String> = prepared
            .iter()
            .map(|row| row.statement.split('"').nth(1).unwrap_or_default().to_owned())
            .collect();
        assert_eq!(tables, ["sessions", "users"], "one kept statement per insert");
    }

    /// A busy connection costs no health-check round trip: reused at once, it is asked
    /// no query first (the server's record of its last statement is still ours).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_reused_at_once_is_asked_no_query_first() {
        #[derive(diesel::QueryableByName)]
        struct Activity {
            #[diesel(sql_type = Text)]
            query: String,
        }
        let db = TestDatabase::migrated().await;
        let pool = db.pool().await;
        pool.inner().get().await.unwrap().batch_execute("SELECT 'before reuse'").await.unwrap();
        let _reused = pool.inner().get().await.unwrap();
        let mut admin = AsyncPgConnection::establish(&postgres_server_url()).await.unwrap();
        let last: Vec<Activity> = diesel::sql_query(
            "SELECT query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(db.url().rsplit('/').next().unwrap())
        .load(&mut admin)
        .await
        .unwrap();
        let last: Vec<String> = last.into_iter().map(|activity| activity.query).collect();
        assert_eq!(last, ["SELECT 'before reuse'"]);
    }

    #[tokio::test]
    async fn the_probe_reports_a_reachable_database_ready() {
        let db = TestDatabase::migrated().await;
        let probe = PgProbe::new(db.pool().await);
        assert_eq!(probe.name(), "database");
        probe.check().await.unwrap();
    }

    /// The README's advice: server settings ride on the URL.
    #[tokio::test]
    async fn settings_in_the_url_reach_the_server() {
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = Text)]
            statement_timeout: String,
        }
        let db = TestDatabase::migrated().await;
        let url = format!("{}?options=-c%20statement_timeout%3D5000", db.url());
        let pool = otp_postgres::connect(&otp_postgres::PgConfig::new(url)).await.unwrap();
        let mut connection = pool.inner().get().await.unwrap();
        let setting: Setting =
            diesel::sql_query("SHOW statement_timeout").get_result(&mut connection).await.unwrap();
        assert_eq!(setting.statement_timeout, "5s");
    }
}
