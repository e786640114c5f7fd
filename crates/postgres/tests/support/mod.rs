//! Per-test databases and the adapters on them.
//!
//! Each test gets its own database, `otp_test_<uuid>`, on the server at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! migrated and dropped (`WITH (FORCE)`) when the test ends, pass or fail.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use otp_core::crypto::TokenHash;
use otp_core::domain::{AuditEntry, AuditEntryId, OutboxId, PasswordHash, Role, Session, User};
use otp_core::ports::{
    AuditLog, ClaimedMessage, IdentityRepository, LinkedIdentity, MailOutbox, NewOutboxMessage,
    RotateOutcome, SessionRepository, UserListQuery, UserRepository,
};
use otp_core::{EmailAddress, PortError, SessionId, UserId};
use otp_postgres::{
    PgAuditLog, PgConfig, PgIdentityRepository, PgOutbox, PgPool, PgSessionRepository, PgUserRepository,
    connect, create_database_if_missing, run_migrations,
};
use time::OffsetDateTime;
use url::Url;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server the tests use: `TEST_DATABASE_URL`, or the local default.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.into())
}

/// `url` with its password hidden, for messages.
fn shown(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.into()
        }
        _ => url.to_owned(),
    }
}

/// `url` naming the database `name` instead.
pub fn url_of(name: &str) -> String {
    let mut url = Url::parse(&server_url()).expect("TEST_DATABASE_URL is not a URL");
    url.path_segments_mut().expect("TEST_DATABASE_URL cannot name a database").clear().push(name);
    url.into()
}

/// A fresh database name.
pub fn fresh_name() -> String {
    format!("otp_test_{}", uuid::Uuid::new_v4().simple())
}

/// Fails the test with instructions when PostgreSQL cannot be reached.
pub async fn require_server() {
    let url = server_url();
    let attempt =
        tokio::time::timeout(Duration::from_secs(10), tokio_postgres::connect(&url, tokio_postgres::NoTls))
            .await;
    let problem = match attempt {
        Ok(Ok(_)) => return,
        Ok(Err(error)) => match std::error::Error::source(&error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        },
        Err(_) => "no answer within 10 s".to_owned(),
    };
    panic!(
        "PostgreSQL is not reachable at {} ({problem}).\n\
         These tests need a real server: start the local one with \
         `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
         or set TEST_DATABASE_URL to the maintenance database of a server the tests may create \
         and drop databases on.",
        shown(&url)
    );
}

/// A database of this test's own, dropped when the last handle goes.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// A new database with nothing in it (created through `create_database_if_missing`).
    pub async fn empty() -> Arc<Self> {
        require_server().await;
        let name = fresh_name();
        let url = url_of(&name);
        let created = create_database_if_missing(&url).await.expect("creating the test database");
        assert!(created, "{name} existed already");
        Arc::new(Self { name, url })
    }

    /// A new database with the migrations applied.
    pub async fn migrated() -> Arc<Self> {
        let db = Self::empty().await;
        let applied = run_migrations(&db.url).await.expect("migrating the test database");
        assert!(!applied.is_empty(), "no migration applied to a new database");
        db
    }

    /// Takes charge of dropping a database made by the test itself.
    pub fn adopt(name: String) -> Arc<Self> {
        let url = url_of(&name);
        Arc::new(Self { name, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A pool on this database.
    pub async fn pool(&self) -> PgPool {
        let config = PgConfig {
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            wait_timeout: Duration::from_secs(20),
            ..PgConfig::new(self.url.clone())
        };
        connect(&config).await.expect("connecting to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (server, name) = (server_url(), self.name.clone());
        // Drop may run inside a Tokio runtime (which must not be blocked on), so the
        // drop gets a thread and a small runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut connection = AsyncPgConnection::establish(&server).await?;
                let quoted = format!("\"{}\"", name.replace('"', "\"\""));
                connection.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop test database {}: {error}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

/// Inserts an account with this id unless one exists, so sessions and identities
/// the contract suites make for fresh user ids satisfy the foreign keys.
pub async fn ensure_owner(pool: &PgPool, user_id: UserId) {
    let mut connection = pool.inner().get().await.expect("a connection");
    diesel::sql_query(
        "INSERT INTO users (id, email, created_at, updated_at) VALUES ($1, $2, now(), now()) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(user_id.as_uuid())
    .bind::<Text, _>(format!("owner-{}@example.com", user_id.as_uuid().simple()))
    .execute(&mut connection)
    .await
    .expect("inserting the owner account");
}

/// An adapter on a test database: delegates to `inner`, creates the owners of new
/// rows first, and keeps the database alive until it is dropped.
pub struct OnTestDb<R> {
    inner: R,
    pool: PgPool,
    _db: Arc<TestDb>,
}

impl<R> std::fmt::Debug for OnTestDb<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnTestDb").field("db", &self._db.name).finish_non_exhaustive()
    }
}

pub async fn users() -> Arc<dyn UserRepository> {
    let db = TestDb::migrated().await;
    let pool = db.pool().await;
    Arc::new(OnTestDb { inner: PgUserRepository::new(pool.clone()), pool, _db: db })
}

pub async fn sessions() -> Arc<dyn SessionRepository> {
    let db = TestDb::migrated().await;
    let pool = db.pool().await;
    Arc::new(OnTestDb { inner: PgSessionRepository::new(pool.clone()), pool, _db: db })
}

/// The audit log needs no owners: it keeps ids of accounts that may be gone.
pub async fn audit_log() -> Arc<dyn AuditLog> {
    let db = TestDb::migrated().await;
    let pool = db.pool().await;
    Arc::new(OnTestDb { inner: PgAuditLog::new(pool.clone()), pool, _db: db })
}

pub async fn identities() -> Arc<dyn IdentityRepository> {
    let db = TestDb::migrated().await;
    let pool = db.pool().await;
    Arc::new(OnTestDb { inner: PgIdentityRepository::new(pool.clone()), pool, _db: db })
}

pub async fn outbox() -> Arc<dyn MailOutbox> {
    let db = TestDb::migrated().await;
    let pool = db.pool().await;
    Arc::new(OnTestDb { inner: PgOutbox::new(pool.clone()), pool, _db: db })
}

#[async_trait]
impl MailOutbox for OnTestDb<PgOutbox> {
    async fn enqueue(&self, message: &NewOutboxMessage) -> Result<(), PortError> {
        self.inner.enqueue(message).await
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, PortError> {
        self.inner.claim(now, limit, lease).await
    }

    async fn complete(&self, id: OutboxId) -> Result<(), PortError> {
        self.inner.complete(id).await
    }

    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError> {
        self.inner.retry_at(id, at).await
    }

    async fn release(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), PortError> {
        self.inner.release(id, now).await
    }

    async fn depth(&self) -> Result<u64, PortError> {
        self.inner.depth().await
    }
}

#[async_trait]
impl UserRepository for OnTestDb<PgUserRepository> {
    async fn create(&self, user: &User) -> Result<(), PortError> {
        self.inner.create(user).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError> {
        self.inner.find_by_id(id).await
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, PortError> {
        self.inner.find_by_email(email).await
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: Option<&PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        self.inner.set_password(id, hash, now).await
    }

    async fn record_code_verified(&self, id: UserId, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        self.inner.record_code_verified(id, now).await
    }

    async fn list(&self, query: &UserListQuery) -> Result<Vec<User>, PortError> {
        self.inner.list(query).await
    }

    async fn set_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        self.inner.set_disabled(id, disabled, now).await
    }

    async fn set_role(&self, id: UserId, role: Role, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        self.inner.set_role(id, role, now).await
    }

    async fn delete(&self, id: UserId) -> Result<bool, PortError> {
        self.inner.delete(id).await
    }
}

#[async_trait]
impl AuditLog for OnTestDb<PgAuditLog> {
    async fn append(&self, entry: &AuditEntry) -> Result<(), PortError> {
        self.inner.append(entry).await
    }

    async fn list(&self, before: Option<AuditEntryId>, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        self.inner.list(before, limit).await
    }
}

#[async_trait]
impl SessionRepository for OnTestDb<PgSessionRepository> {
    async fn create(&self, session: &Session) -> Result<(), PortError> {
        ensure_owner(&self.pool, session.user_id).await;
        self.inner.create(session).await
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, PortError> {
        self.inner.find(id).await
    }

    async fn rotate_refresh(
        &self,
        id: SessionId,
        presented: &TokenHash,
        replacement: &TokenHash,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<RotateOutcome, PortError> {
        self.inner.rotate_refresh(id, presented, replacement, now, expires_at).await
    }

    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<bool, PortError> {
        self.inner.revoke(id, now).await
    }

    async fn revoke_all_for_user(&self, user_id: UserId, now: OffsetDateTime) -> Result<u64, PortError> {
        self.inner.revoke_all_for_user(user_id, now).await
    }

    async fn list_active(&self, user_id: UserId, now: OffsetDateTime) -> Result<Vec<Session>, PortError> {
        self.inner.list_active(user_id, now).await
    }
}

#[async_trait]
impl IdentityRepository for OnTestDb<PgIdentityRepository> {
    async fn link(&self, identity: &LinkedIdentity) -> Result<(), PortError> {
        ensure_owner(&self.pool, identity.user_id).await;
        self.inner.link(identity).await
    }

    async fn find(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>, PortError> {
        self.inner.find(provider, subject).await
    }

    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<LinkedIdentity>, PortError> {
        self.inner.list_for_user(user_id).await
    }
}
