//! The stores the settings select: PostgreSQL for accounts, sessions, linked provider
//! identities, the audit log and the mail outbox when `DATABASE_URL` is set, Redis for
//! codes, rate limits and pending provider sign-ins when `REDIS_URL` is set, and the
//! in-memory adapters otherwise.

use std::sync::Arc;
use std::time::Duration;

use otp_core::Stores;
use otp_core::ports::{
    AuditLog, CodeStore, DeviceRepository, IdentityRepository, MailOutbox, OAuthStateStore, Probe,
    RateLimiter, SessionRepository, UserRepository,
};
use otp_memory::{
    MemoryAuditLog, MemoryCodeStore, MemoryIdentityRepository, MemoryOAuthStateStore, MemoryOutbox,
    MemoryProbe, MemoryRateLimiter, MemorySessionRepository, MemoryUserRepository,
};
use otp_postgres::{
    PgAuditLog, PgConfig, PgIdentityRepository, PgOutbox, PgProbe, PgSessionRepository, PgUserRepository,
};
use otp_redis::{RedisCodeStore, RedisConfig, RedisOAuthStateStore, RedisProbe, RedisRateLimiter};
use secrecy::ExposeSecret;

use super::error::StartupError;
use super::pools::{PostgresGauge, RedisGauge};
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
    devices: Arc<dyn DeviceRepository>,
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
pub async fn migrate(database_url: &str) -> Result<Vec<String>, StartupError> {
    otp_postgres::create_database_if_missing(database_url).await.map_err(StartupError::database)?;
    otp_postgres::run_migrations(database_url).await.map_err(StartupError::database)
}

/// The Redis that `REDIS_URL` (one node) or `REDIS_CLUSTER_NODES` (a cluster) names,
/// with the setting it came from; `None` when neither is set.
///
/// # Errors
/// [`StartupError::Config`] when both are set, or the list of nodes is empty.
fn redis_config(settings: &Settings) -> Result<Option<(RedisConfig, &'static str)>, StartupError> {
    let (base, key) = match (&settings.redis_url, &settings.redis_cluster_nodes) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(StartupError::Config(
                "REDIS_URL (one node) and REDIS_CLUSTER_NODES (a cluster) are both set; set one".to_owned(),
            ));
        }
        (Some(url), None) => (RedisConfig::new(url.clone()), "REDIS_URL"),
        (None, Some(nodes)) => (
            RedisConfig::cluster_from_list(nodes)
                .map_err(|error| StartupError::Config(format!("REDIS_CLUSTER_NODES: {error}")))?,
            "REDIS_CLUSTER_NODES",
        ),
    };
    let timeout = Duration::from_millis(settings.redis_timeout_ms.max(10));
    let config = RedisConfig {
        key_prefix: settings.redis_key_prefix.clone(),
        pool_size: settings.redis_pool_size.max(1),
        connect_timeout: timeout,
        wait_timeout: timeout,
        response_timeout: timeout / 2,
        ..base
    };
    Ok(Some((config, key)))
}

/// Builds the stores for `settings`. Pools connect lazily, so a database or Redis that
/// is down at start-up (with migrations off) turns into 503 answers until it is back.
///
/// # Errors
/// [`StartupError`] when a URL is invalid or start-up migrations fail.
pub async fn build_storage(settings: &Settings) -> Result<Storage, StartupError> {
    let mut probes: Vec<Arc<dyn Probe>> = Vec::new();
    let mut pools: Vec<Arc<dyn PoolGauge>> = Vec::new();
    let Durable { users, sessions, devices, identities, audit_log, outbox } = match &settings.database_url {
        Some(url) => {
            if settings.run_migrations()
                && let Some(migration_url) = settings.migration_url()
            {
                migrate(migration_url.expose_secret()).await?;
            }
            let timeout = Duration::from_secs(settings.database_timeout_seconds.max(1));
            let config = PgConfig {
                max_connections: settings.database_pool_size.max(1),
                connect_timeout: timeout,
                wait_timeout: timeout,
                statement_cache: settings.database_statement_cache,
                ..PgConfig::new(url.expose_secret())
            };
            let pool = otp_postgres::build_pool(&config).map_err(StartupError::database)?;
            probes.push(Arc::new(PgProbe::new(pool.clone())));
            pools.push(Arc::new(PostgresGauge(pool.clone())));
            tracing::info!(
                "accounts, sessions, linked identities, the audit log and the mail outbox in PostgreSQL"
            );
            Durable {
                users: Arc::new(PgUserRepository::new(pool.clone())),
                sessions: Arc::new(PgSessionRepository::new(pool.clone())),
                devices: Arc::new(otp_postgres::PgDeviceRepository::new(pool.clone())),
                identities: Arc::new(PgIdentityRepository::new(pool.clone())),
                audit_log: Arc::new(PgAuditLog::new(pool.clone())),
                outbox: Arc::new(PgOutbox::new(pool)),
            }
        }
        None => {
            tracing::info!(
                "accounts, sessions, linked identities, the audit log and the mail outbox in memory"
            );
            let sessions = Arc::new(MemorySessionRepository::new());
            Durable {
                users: Arc::new(MemoryUserRepository::with_sessions(sessions.clone())),
                sessions,
                devices: Arc::new(otp_memory::MemoryDeviceRepository::new()),
                identities: Arc::new(MemoryIdentityRepository::new()),
                audit_log: Arc::new(MemoryAuditLog::new()),
                outbox: Arc::new(MemoryOutbox::new()),
            }
        }
    };
    let (codes, rate_limiter, oauth_states): ShortLived = match redis_config(settings)? {
        Some((config, key)) => {
            let pool = otp_redis::connect(&config)
                .map_err(|error| StartupError::Config(format!("{key}: {error}")))?;
            probes.push(Arc::new(RedisProbe::new(pool.clone())));
            pools.push(Arc::new(RedisGauge(pool.clone())));
            tracing::info!(
                prefix = %settings.redis_key_prefix,
                cluster = config.is_cluster(),
                "codes, rate limits and pending provider sign-ins in Redis"
            );
            (
                Arc::new(RedisCodeStore::new(pool.clone())),
                Arc::new(RedisRateLimiter::new(pool.clone())),
                Arc::new(RedisOAuthStateStore::new(pool)),
            )
        }
        None => {
            tracing::info!("codes, rate limits and pending provider sign-ins in memory (this instance only)");
            (
                Arc::new(MemoryCodeStore::new()),
                Arc::new(MemoryRateLimiter::new()),
                Arc::new(MemoryOAuthStateStore::new()),
            )
        }
    };
    if settings.database_url.is_none() || !settings.uses_redis() {
        probes.push(Arc::new(MemoryProbe));
    }
    let stores =
        Stores { users, sessions, devices, identities, oauth_states, codes, rate_limiter, audit_log };
    Ok(Storage { stores, outbox, probes, pools })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(settings: &Settings) -> String {
        match redis_config(settings) {
            Err(StartupError::Config(message)) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn one_node_or_a_cluster_is_chosen_by_which_setting_is_given() {
        assert!(redis_config(&Settings::default()).unwrap().is_none());

        let single = Settings { redis_url: Some("redis://127.0.0.1:6379".into()), ..Settings::default() };
        let (config, key) = redis_config(&single).unwrap().unwrap();
        assert!(!config.is_cluster());
        assert_eq!(key, "REDIS_URL");

        let nodes = Some("10.0.0.1:6379, 10.0.0.2:6379,".into());
        let cluster = Settings { redis_cluster_nodes: nodes, redis_pool_size: 3, ..Settings::default() };
        let (config, key) = redis_config(&cluster).unwrap().unwrap();
        assert!(config.is_cluster());
        assert_eq!(config.cluster_nodes.len(), 2);
        assert_eq!(config.pool_size, 3);
        assert_eq!(key, "REDIS_CLUSTER_NODES");
    }

    #[test]
    fn both_redis_settings_or_an_empty_node_list_stop_start_up() {
        let both = Settings {
            redis_url: Some("redis://127.0.0.1:6379".into()),
            redis_cluster_nodes: Some("127.0.0.1:7000".into()),
            ..Settings::default()
        };
        assert!(error_of(&both).contains("both set"));
        let empty = Settings { redis_cluster_nodes: Some(" , ".into()), ..Settings::default() };
        assert!(error_of(&empty).starts_with("REDIS_CLUSTER_NODES"));
    }

    #[test]
    fn migrations_use_the_direct_connection_when_one_is_given() {
        let pooled = Settings { database_url: Some("postgres://bouncer/db".into()), ..Settings::default() };
        assert_eq!(pooled.migration_url().unwrap().expose_secret(), "postgres://bouncer/db");
        let direct = Settings { database_migration_url: Some("postgres://direct/db".into()), ..pooled };
        assert_eq!(direct.migration_url().unwrap().expose_secret(), "postgres://direct/db");
    }
}
