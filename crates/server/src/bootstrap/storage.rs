//! The stores the settings select: PostgreSQL for accounts, sessions, linked provider
//! identities, the audit log and the mail outbox when `DATABASE_URL` is set, Redis for
//! codes, rate limits and pending provider sign-ins when `REDIS_URL` is set, and the
//! in-memory adapters otherwise.

use std::sync::Arc;
#[cfg(any(feature = "postgres", feature = "redis"))]
use std::time::Duration;

use otp_core::Stores;
use otp_core::ports::{
    AuditLog, CodeStore, IdentityRepository, MailOutbox, OAuthStateStore, Probe, RateLimiter,
    SessionRepository, UserRepository,
};
use otp_memory::{
    MemoryAuditLog, MemoryCodeStore, MemoryIdentityRepository, MemoryOAuthStateStore, MemoryOutbox,
    MemoryProbe, MemoryRateLimiter, MemorySessionRepository, MemoryUserRepository,
};
#[cfg(feature = "postgres")]
use otp_postgres::{
    PgAuditLog, PgConfig, PgIdentityRepository, PgOutbox, PgProbe, PgSessionRepository, PgUserRepository,
};
#[cfg(feature = "redis")]
use otp_redis::{RedisCodeStore, RedisConfig, RedisOAuthStateStore, RedisProbe, RedisRateLimiter};
#[cfg(feature = "postgres")]
use secrecy::ExposeSecret;
use secrecy::SecretString;

use super::error::StartupError;
#[cfg(feature = "postgres")]
use super::pools::PostgresGauge;
#[cfg(feature = "redis")]
use super::pools::RedisGauge;
use super::settings::Settings;
use crate::http::metrics::PoolGauge;

/// The stores the settings select, with their readiness checks and pools.
#[derive(Debug)]
pub struct Storage {
    /// The stores the services run on.
    pub stores: Stores,
    /// Mail waiting for delivery (with the accounts: PostgreSQL or memory).
    pub outbox: Arc<dyn MailOutbox>,
    /// What `/ready` checks.
    pub probes: Vec<Arc<dyn Probe>>,
    /// The connection pools, for `/metrics`.
    pub pools: Vec<Arc<dyn PoolGauge>>,
}

/// The stores that must last, in PostgreSQL or memory.
struct Durable {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    identities: Arc<dyn IdentityRepository>,
    audit_log: Arc<dyn AuditLog>,
    outbox: Arc<dyn MailOutbox>,
}

/// The short-lived stores: codes, rate limits, pending provider sign-ins.
type ShortLived = (Arc<dyn CodeStore>, Arc<dyn RateLimiter>, Arc<dyn OAuthStateStore>);

/// Creates the database if missing and applies pending migrations
/// (`otp-server migrate`, and start-up when `RUN_MIGRATIONS` is on).
///
/// # Errors
/// [`StartupError::Database`] when the server cannot be reached or a migration fails.
#[cfg(feature = "postgres")]
pub async fn migrate(database_url: &str) -> Result<Vec<String>, StartupError> {
    otp_postgres::create_database_if_missing(database_url).await.map_err(StartupError::database)?;
    otp_postgres::run_migrations(database_url).await.map_err(StartupError::database)
}

/// Without the `postgres` feature there is no database to migrate.
///
/// # Errors
/// Always [`StartupError::Config`], naming the missing feature.
#[cfg(not(feature = "postgres"))]
pub async fn migrate(_database_url: &str) -> Result<Vec<String>, StartupError> {
    Err(StartupError::missing_feature("DATABASE_URL", "postgres"))
}

/// Pools and readiness checks collected while the stores are built.
#[derive(Default)]
struct Monitored {
    probes: Vec<Arc<dyn Probe>>,
    pools: Vec<Arc<dyn PoolGauge>>,
}

/// Builds the stores for `settings`. Pools connect lazily, so a database or Redis that
/// is down at start-up (with migrations off) turns into 503 answers until it is back.
///
/// # Errors
/// [`StartupError`] when a URL is invalid or start-up migrations fail.
pub async fn build_storage(settings: &Settings) -> Result<Storage, StartupError> {
    let mut monitored = Monitored::default();
    let Durable { users, sessions, identities, audit_log, outbox } = match &settings.database_url {
        Some(url) => postgres_stores(settings, url, &mut monitored).await?,
        None => {
            tracing::info!(
                "accounts, sessions, linked identities, the audit log and the mail outbox in memory"
            );
            Durable {
                users: Arc::new(MemoryUserRepository::new()),
                sessions: Arc::new(MemorySessionRepository::new()),
                identities: Arc::new(MemoryIdentityRepository::new()),
                audit_log: Arc::new(MemoryAuditLog::new()),
                outbox: Arc::new(MemoryOutbox::new()),
            }
        }
    };
    let (codes, rate_limiter, oauth_states): ShortLived = match &settings.redis_url {
        Some(url) => redis_stores(settings, url, &mut monitored)?,
        None => {
            tracing::info!("codes, rate limits and pending provider sign-ins in memory (this instance only)");
            (
                Arc::new(MemoryCodeStore::new()),
                Arc::new(MemoryRateLimiter::new()),
                Arc::new(MemoryOAuthStateStore::new()),
            )
        }
    };
    let Monitored { mut probes, pools } = monitored;
    if settings.database_url.is_none() || settings.redis_url.is_none() {
        probes.push(Arc::new(MemoryProbe));
    }
    let stores = Stores { users, sessions, identities, oauth_states, codes, rate_limiter, audit_log };
    Ok(Storage { stores, outbox, probes, pools })
}

#[cfg(feature = "postgres")]
async fn postgres_stores(
    settings: &Settings,
    url: &SecretString,
    monitored: &mut Monitored,
) -> Result<Durable, StartupError> {
    let url = url.expose_secret();
    if settings.run_migrations() {
        migrate(url).await?;
    }
    let timeout = Duration::from_secs(settings.database_timeout_seconds.max(1));
    let config = PgConfig {
        max_connections: settings.database_pool_size.max(1),
        connect_timeout: timeout,
        wait_timeout: timeout,
        ..PgConfig::new(url)
    };
    let pool = otp_postgres::build_pool(&config).map_err(StartupError::database)?;
    monitored.probes.push(Arc::new(PgProbe::new(pool.clone())));
    monitored.pools.push(Arc::new(PostgresGauge(pool.clone())));
    tracing::info!("accounts, sessions, linked identities, the audit log and the mail outbox in PostgreSQL");
    Ok(Durable {
        users: Arc::new(PgUserRepository::new(pool.clone())),
        sessions: Arc::new(PgSessionRepository::new(pool.clone())),
        identities: Arc::new(PgIdentityRepository::new(pool.clone())),
        audit_log: Arc::new(PgAuditLog::new(pool.clone())),
        outbox: Arc::new(PgOutbox::new(pool)),
    })
}

#[cfg(not(feature = "postgres"))]
async fn postgres_stores(
    _settings: &Settings,
    _url: &SecretString,
    _monitored: &mut Monitored,
) -> Result<Durable, StartupError> {
    Err(StartupError::missing_feature("DATABASE_URL", "postgres"))
}

#[cfg(feature = "redis")]
fn redis_stores(
    settings: &Settings,
    url: &SecretString,
    monitored: &mut Monitored,
) -> Result<ShortLived, StartupError> {
    let timeout = Duration::from_millis(settings.redis_timeout_ms.max(10));
    let config = RedisConfig {
        key_prefix: settings.redis_key_prefix.clone(),
        pool_size: settings.redis_pool_size.max(1),
        connect_timeout: timeout,
        wait_timeout: timeout,
        response_timeout: timeout / 2,
        ..RedisConfig::new(url.clone())
    };
    let pool =
        otp_redis::connect(&config).map_err(|error| StartupError::Config(format!("REDIS_URL: {error}")))?;
    monitored.probes.push(Arc::new(RedisProbe::new(pool.clone())));
    monitored.pools.push(Arc::new(RedisGauge(pool.clone())));
    tracing::info!(prefix = %settings.redis_key_prefix, "codes, rate limits and pending provider sign-ins in Redis");
    Ok((
        Arc::new(RedisCodeStore::new(pool.clone())),
        Arc::new(RedisRateLimiter::new(pool.clone())),
        Arc::new(RedisOAuthStateStore::new(pool)),
    ))
}

#[cfg(not(feature = "redis"))]
fn redis_stores(
    _settings: &Settings,
    _url: &SecretString,
    _monitored: &mut Monitored,
) -> Result<ShortLived, StartupError> {
    Err(StartupError::missing_feature("REDIS_URL", "redis"))
}
