//! PgBouncer in transaction pooling mode in front of the test server, one per test, and
//! the adapters on a test database through it.
//!
//! Each [`PgBouncer`] is Debian's `pgbouncer` (scripts/pgbouncer-tools.sh installs it;
//! the nextest setup script `pgbouncer-tools` runs that) on a free port, with a generated
//! configuration: every database of `TEST_DATABASE_URL`'s server, `auth_type = trust`,
//! `pool_mode = transaction`, and few server connections so that consecutive
//! transactions of one client land on different ones. Databases are created and migrated
//! directly (migrations take a session-level advisory lock); only the pools go through
//! PgBouncer.

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use otp_core::crypto::TokenHash;
use otp_core::domain::{AuditEntry, AuditEntryId, PasswordHash, Role, Session, User};
use otp_core::ports::{
    AuditLog, ClaimedMessage, IdentityRepository, LinkedIdentity, MailOutbox, NewOutboxMessage, OutboxId,
    RotateOutcome, SessionRepository, UserListQuery, UserRepository,
};
use otp_core::{EmailAddress, PortError, SessionId, UserId};
use otp_postgres::{
    PgAuditLog, PgConfig, PgIdentityRepository, PgOutbox, PgPool, PgSessionRepository, PgUserRepository,
    connect,
};
use time::OffsetDateTime;
use url::Url;

use crate::support::{TestDb, ensure_owner, server_url};

/// Server connections PgBouncer keeps per database: fewer than the clients' pool, so
/// transactions of one client are served by several of them in turn.
pub const SERVER_CONNECTIONS: usize = 2;

/// A running PgBouncer, stopped when dropped.
#[derive(Debug)]
pub struct PgBouncer {
    port: u16,
    dir: PathBuf,
    process: Child,
}

impl PgBouncer {
    /// Starts one in transaction pooling mode in front of `TEST_DATABASE_URL`'s server.
    pub fn start() -> Arc<Self> {
        let server = Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
        let (host, server_port) = (server.host_str().unwrap_or("127.0.0.1"), server.port().unwrap_or(5432));
        let user = if server.username().is_empty() { "postgres" } else { server.username() };
        let dir = std::env::temp_dir().join(format!("otp-pgbouncer-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let config = format!(
            "[databases]\n\
             * = host={host} port={server_port}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {auth}\n\
             pool_mode = transaction\n\
             default_pool_size = {SERVER_CONNECTIONS}\n\
             max_client_conn = 200\n\
             admin_users = {user}\n",
            auth = dir.join("userlist.txt").display(),
        );
        fs::write(dir.join("pgbouncer.ini"), config).unwrap();
        fs::write(dir.join("userlist.txt"), format!("\"{user}\" \"\"\n")).unwrap();
        make_readable(&dir);
        let log = fs::File::create(dir.join("pgbouncer.log")).unwrap();
        let mut command = Command::new(binary());
        // PgBouncer refuses to run as root; it drops to another user itself.
        if running_as_root() {
            command.arg("-u").arg("postgres");
        }
        let process = command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("starting pgbouncer: {error}; {HOW_TO_INSTALL}"));
        let bouncer = Arc::new(Self { port, dir, process });
        bouncer.wait_until_listening();
        bouncer
    }

    /// `database` on the server, through PgBouncer.
    pub fn url_of(&self, database: &str) -> String {
        let mut url = Url::parse(&server_url()).unwrap();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.path_segments_mut().unwrap().clear().push(database);
        url.into()
    }

    /// What PgBouncer logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }

    fn wait_until_listening(&self) {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen on {address}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

const HOW_TO_INSTALL: &str =
    "these tests need Debian's pgbouncer: `cargo nextest run` installs it (scripts/pgbouncer-tools.sh)";

fn binary() -> PathBuf {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("pgbouncer"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|status| {
            status.lines().any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The user PgBouncer drops to must read its files.
fn make_readable(dir: &PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        fs::set_permissions(entry.unwrap().path(), fs::Permissions::from_mode(0o644)).unwrap();
    }
}

/// A migrated test database, PgBouncer in front of it, and pools on both.
#[derive(Debug)]
pub struct Behind {
    pub db: Arc<TestDb>,
    pub bouncer: Arc<PgBouncer>,
    /// Through PgBouncer, with the statement cache off.
    pub pool: PgPool,
    /// Straight to the server, for the tests' own set-up.
    pub direct: PgPool,
}

impl Behind {
    pub async fn new() -> Self {
        Self::with_pool_size(8).await
    }

    pub async fn with_pool_size(max_connections: usize) -> Self {
        let db = TestDb::migrated().await;
        let bouncer = PgBouncer::start();
        let name = Url::parse(db.url()).unwrap().path().trim_start_matches('/').to_owned();
        let config = PgConfig {
            max_connections,
            statement_cache: false,
            connect_timeout: Duration::from_secs(10),
            wait_timeout: Duration::from_secs(20),
            ..PgConfig::new(bouncer.url_of(&name))
        };
        let pool = connect(&config).await.expect("connecting through pgbouncer");
        let direct = db.pool().await;
        Self { db, bouncer, pool, direct }
    }

    /// The test database's name.
    pub fn db_name(&self) -> String {
        Url::parse(self.db.url()).unwrap().path().trim_start_matches('/').to_owned()
    }
}

/// An adapter through PgBouncer: delegates to `inner`, creates the owners of new rows
/// first (directly), and keeps the database and PgBouncer until it is dropped.
#[derive(Debug)]
pub struct Bounced<R> {
    inner: R,
    behind: Behind,
}

pub async fn users() -> Arc<dyn UserRepository> {
    let behind = Behind::new().await;
    Arc::new(Bounced { inner: PgUserRepository::new(behind.pool.clone()), behind })
}

pub async fn sessions() -> Arc<dyn SessionRepository> {
    let behind = Behind::new().await;
    Arc::new(Bounced { inner: PgSessionRepository::new(behind.pool.clone()), behind })
}

pub async fn identities() -> Arc<dyn IdentityRepository> {
    let behind = Behind::new().await;
    Arc::new(Bounced { inner: PgIdentityRepository::new(behind.pool.clone()), behind })
}

pub async fn audit_log() -> Arc<dyn AuditLog> {
    let behind = Behind::new().await;
    Arc::new(Bounced { inner: PgAuditLog::new(behind.pool.clone()), behind })
}

pub async fn outbox() -> Arc<dyn MailOutbox> {
    let behind = Behind::new().await;
    Arc::new(Bounced { inner: PgOutbox::new(behind.pool.clone()), behind })
}

#[async_trait]
impl UserRepository for Bounced<PgUserRepository> {
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
impl SessionRepository for Bounced<PgSessionRepository> {
    async fn create(&self, session: &Session) -> Result<(), PortError> {
        ensure_owner(&self.behind.direct, session.user_id).await;
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
impl IdentityRepository for Bounced<PgIdentityRepository> {
    async fn link(&self, identity: &LinkedIdentity) -> Result<(), PortError> {
        ensure_owner(&self.behind.direct, identity.user_id).await;
        self.inner.link(identity).await
    }

    async fn find(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>, PortError> {
        self.inner.find(provider, subject).await
    }

    async fn list_for_user(&self, user_id: UserId) -> Result<Vec<LinkedIdentity>, PortError> {
        self.inner.list_for_user(user_id).await
    }
}

#[async_trait]
impl AuditLog for Bounced<PgAuditLog> {
    async fn append(&self, entry: &AuditEntry) -> Result<(), PortError> {
        self.inner.append(entry).await
    }

    async fn list(&self, before: Option<AuditEntryId>, limit: usize) -> Result<Vec<AuditEntry>, PortError> {
        self.inner.list(before, limit).await
    }
}

#[async_trait]
impl MailOutbox for Bounced<PgOutbox> {
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
