//! The adapters on a test database through PgBouncer in transaction pooling mode, one
//! PgBouncer per test ([`otp_test_support::PgBouncer`]).

use std::sync::Arc;
use std::time::Duration;

use otp_core::ports::{
    AuditLog, DeviceRepository, IdentityRepository, MailOutbox, SessionRepository, UserRepository,
};
use otp_core::testing::{AccountStorage, WithOwners};
use otp_postgres::{
    PgAuditLog, PgConfig, PgDeviceRepository, PgIdentityRepository, PgOutbox, PgPool, PgSessionRepository,
    PgUserRepository, connect,
};
use otp_test_support::TestDatabase;
pub use otp_test_support::{PgBouncer, SERVER_CONNECTIONS};

/// A migrated test database, PgBouncer in front of it, and pools on both.
#[derive(Debug)]
pub struct Behind {
    pub db: TestDatabase,
    pub bouncer: Arc<PgBouncer>,
    /// Through PgBouncer, with the statement cache off.
    pub pool: PgPool,
}

impl Behind {
    pub async fn new() -> Self {
        Self::with_pool_size(8).await
    }

    pub async fn with_pool_size(max_connections: usize) -> Self {
        let db = TestDatabase::migrated().await;
        let bouncer = PgBouncer::start();
        let name = db.name().to_owned();
        let config = PgConfig {
            max_connections,
            statement_cache: false,
            connect_timeout: Duration::from_secs(10),
            wait_timeout: Duration::from_secs(20),
            ..PgConfig::new(bouncer.url_of(&name))
        };
        let pool = connect(&config).await.expect("connecting through pgbouncer");
        Self { db, bouncer, pool }
    }

    /// The test database's name.
    pub fn db_name(&self) -> String {
        self.db.name().to_owned()
    }

    /// Accounts through PgBouncer, where the contract suites create the owners of the
    /// rows they store.
    pub fn accounts(&self) -> Arc<dyn UserRepository> {
        Arc::new(PgUserRepository::new(self.pool.clone()))
    }
}

pub async fn users() -> (Arc<dyn UserRepository>, Behind) {
    let behind = Behind::new().await;
    (Arc::new(PgUserRepository::new(behind.pool.clone())), behind)
}

pub async fn first_sign_ins() -> (AccountStorage, Behind) {
    let behind = Behind::new().await;
    let storage = AccountStorage {
        users: behind.accounts(),
        sessions: Arc::new(PgSessionRepository::new(behind.pool.clone())),
        devices: Arc::new(PgDeviceRepository::new(behind.pool.clone())),
    };
    (storage, behind)
}

pub async fn sessions() -> (WithOwners<dyn SessionRepository>, Behind) {
    let behind = Behind::new().await;
    let sessions: Arc<dyn SessionRepository> = Arc::new(PgSessionRepository::new(behind.pool.clone()));
    (WithOwners::new(sessions, behind.accounts()), behind)
}

pub async fn devices() -> (WithOwners<dyn DeviceRepository>, Behind) {
    let behind = Behind::new().await;
    let devices: Arc<dyn DeviceRepository> = Arc::new(PgDeviceRepository::new(behind.pool.clone()));
    (WithOwners::new(devices, behind.accounts()), behind)
}

pub async fn identities() -> (WithOwners<dyn IdentityRepository>, Behind) {
    let behind = Behind::new().await;
    let identities: Arc<dyn IdentityRepository> = Arc::new(PgIdentityRepository::new(behind.pool.clone()));
    (WithOwners::new(identities, behind.accounts()), behind)
}

pub async fn audit_log() -> (Arc<dyn AuditLog>, Behind) {
    let behind = Behind::new().await;
    (Arc::new(PgAuditLog::new(behind.pool.clone())), behind)
}

pub async fn outbox() -> (Arc<dyn MailOutbox>, Behind) {
    let behind = Behind::new().await;
    (Arc::new(PgOutbox::new(behind.pool.clone())), behind)
}
