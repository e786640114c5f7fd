//! The stores the settings select: PostgreSQL for accounts, sessions, linked provider
//! identities, the audit log and the mail outbox when `DATABASE_URL` is set, Redis for
//! codes, rate limits and pending provider sign-ins when `REDIS_URL` (one node) or
//! `REDIS_CLUSTER_NODES` (a cluster) is set, and the in-memory adapters otherwise.

use std::sync::Arc;
#[cfg(any(feature = "postgres", feature = "redis"))]
use std::time::Duration;

use otp_core::Stores;
use otp_core::ports::{
    AuditLog, CodeStore, DeviceRepository, IdentityRepository, MailOutbox, OAuthStateStore, Probe,
    RateLimiter, RevocationChannel, SessionRepository, UserRepository, WebhookOutbox,
};
use otp_memory::{
    MemoryAuditLog, MemoryCodeStore, MemoryDeviceRepository, MemoryIdentityRepository, MemoryOAuthStateStore,
    MemoryOutbox, MemoryProbe, MemoryRateLimiter, MemoryRevocationChannel, MemorySessionRepository,
    MemoryUserRepository, MemoryWebhookOutbox,
};
#[cfg(feature = "postgres")]
use otp_postgres::{
    PgAuditLog, PgConfig, PgDeviceRepository, PgIdentityRepository, PgOutbox, PgProbe, PgSessionRepository,
    PgUserRepository, PgWebhookOutbox,
};
#[cfg(feature = "redis")]
use otp_redis::{
    RedisCodeStore, RedisConfig, RedisOAuthStateStore, RedisProbe, RedisRateLimiter, RedisRevocationChannel,
};
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
    /// Auth events waiting for their webhooks (with the accounts).
    pub webhook_outbox: Arc<dyn WebhookOutbox>,
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
    webhook_outbox: Arc<dyn WebhookOutbox>,
}

/// The short-lived stores: codes, rate limits, pending provider sign-ins, and the
/// channel revocations are pushed through.
struct ShortLived {
    codes: Arc<dyn CodeStore>,
    rate_limiter: Arc<dyn RateLimiter>,
    oauth_states: Arc<dyn OAuthStateStore>,
    revocations: Arc<dyn RevocationChannel>,
}

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
    let Durable { users, sessions, devices, identities, audit_log, outbox, webhook_outbox } =
        match &settings.database_url {
            Some(url) => postgres_stores(settings, url, &mut monitored).await?,
            None => {
                tracing::info!(
                    "accounts, sessions, linked identities, the audit log and the mail outbox in memory"
                );
                let sessions = Arc::new(MemorySessionRepository::new());
                let devices = Arc::new(MemoryDeviceRepository::new());
                Durable {
                    users: Arc::new(MemoryUserRepository::with_stores(sessions.clone(), devices.clone())),
                    sessions,
                    devices,
                    identities: Arc::new(MemoryIdentityRepository::new()),
                    audit_log: Arc::new(MemoryAuditLog::new()),
                    outbox: Arc::new(MemoryOutbox::new()),
                    webhook_outbox: Arc::new(MemoryWebhookOutbox::new()),
                }
            }
        };
    let ShortLived { codes, rate_limiter, oauth_states, revocations } = match redis_setting(settings)? {
        Some((key, value)) => redis_stores(settings, key, value, &mut monitored)?,
        None => {
            tracing::info!(
                "codes, rate limits, pending provider sign-ins and revocations in memory (this instance only)"
            );
            ShortLived {
                codes: Arc::new(MemoryCodeStore::new()),
                rate_limiter: Arc::new(MemoryRateLimiter::new()),
                oauth_states: Arc::new(MemoryOAuthStateStore::new()),
                revocations: Arc::new(MemoryRevocationChannel::new()),
            }
        }
    };
    let Monitored { mut probes, pools } = monitored;
    if settings.database_url.is_none() || !settings.uses_redis() {
        probes.push(Arc::new(MemoryProbe));
    }
    let stores = Stores {
        users,
        sessions,
        devices,
        identities,
        oauth_states,
        codes,
        rate_limiter,
        audit_log,
        revocations,
    };
    Ok(Storage { stores, outbox, webhook_outbox, probes, pools })
}

#[cfg(feature = "postgres")]
async fn postgres_stores(
    settings: &Settings,
    url: &SecretString,
    monitored: &mut Monitored,
) -> Result<Durable, StartupError> {
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
    monitored.probes.push(Arc::new(PgProbe::new(pool.clone())));
    monitored.pools.push(Arc::new(PostgresGauge(pool.clone())));
    tracing::info!("accounts, sessions, linked identities, the audit log and the mail outbox in PostgreSQL");
    Ok(Durable {
        users: Arc::new(PgUserRepository::new(pool.clone())),
        sessions: Arc::new(PgSessionRepository::new(pool.clone())),
        devices: Arc::new(PgDeviceRepository::new(pool.clone())),
        identities: Arc::new(PgIdentityRepository::new(pool.clone())),
        audit_log: Arc::new(PgAuditLog::new(pool.clone())),
        outbox: Arc::new(PgOutbox::new(pool.clone())),
        webhook_outbox: Arc::new(PgWebhookOutbox::new(pool)),
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

/// Which Redis setting is given, `REDIS_URL` (one node) or `REDIS_CLUSTER_NODES` (a
/// cluster), with its value; `None` when neither is.
///
/// # Errors
/// [`StartupError::Config`] when both are set.
fn redis_setting(settings: &Settings) -> Result<Option<(&'static str, &SecretString)>, StartupError> {
    match (&settings.redis_url, &settings.redis_cluster_nodes) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(StartupError::Config(
            "REDIS_URL (one node) and REDIS_CLUSTER_NODES (a cluster) are both set; set one".to_owned(),
        )),
        (Some(url), None) => Ok(Some(("REDIS_URL", url))),
        (None, Some(nodes)) => Ok(Some(("REDIS_CLUSTER_NODES", nodes))),
    }
}

/// The Redis configuration for the setting `key` (`REDIS_URL` or
/// `REDIS_CLUSTER_NODES`) with `value`, and the prefix, pool and time-outs of `settings`.
///
/// # Errors
/// [`StartupError::Config`] when the list of cluster nodes is empty.
#[cfg(feature = "redis")]
fn redis_config(settings: &Settings, key: &str, value: &SecretString) -> Result<RedisConfig, StartupError> {
    let base = if key == "REDIS_CLUSTER_NODES" {
        RedisConfig::cluster_from_list(value)
            .map_err(|error| StartupError::Config(format!("{key}: {error}")))?
    } else {
        RedisConfig::new(value.clone())
    };
    let timeout = Duration::from_millis(settings.redis_timeout_ms.max(10));
    Ok(RedisConfig {
        key_prefix: settings.redis_key_prefix.clone(),
        pool_size: settings.redis_pool_size.max(1),
        connect_timeout: timeout,
        wait_timeout: timeout,
        response_timeout: timeout / 2,
        ..base
    })
}

#[cfg(feature = "redis")]
fn redis_stores(
    settings: &Settings,
    key: &str,
    value: &SecretString,
    monitored: &mut Monitored,
) -> Result<ShortLived, StartupError> {
    let config = redis_config(settings, key, value)?;
    let invalid = |error: otp_redis::RedisSetupError| StartupError::Config(format!("{key}: {error}"));
    let pool = otp_redis::connect(&config).map_err(invalid)?;
    let revocations = RedisRevocationChannel::new(pool.clone(), &config).map_err(invalid)?;
    monitored.probes.push(Arc::new(RedisProbe::new(pool.clone())));
    monitored.pools.push(Arc::new(RedisGauge(pool.clone())));
    tracing::info!(
        prefix = %settings.redis_key_prefix,
        cluster = config.is_cluster(),
        "codes, rate limits, pending provider sign-ins and revocations (pub/sub) in Redis"
    );
    // The code store counts the limiter's budgets with the code it issues: one round trip.
    let rate_limiter = RedisRateLimiter::new(pool.clone());
    Ok(ShortLived {
        codes: Arc::new(RedisCodeStore::sharing(&rate_limiter)),
        rate_limiter: Arc::new(rate_limiter),
        oauth_states: Arc::new(RedisOAuthStateStore::new(pool)),
        revocations: Arc::new(revocations),
    })
}

#[cfg(not(feature = "redis"))]
fn redis_stores(
    _settings: &Settings,
    key: &'static str,
    _value: &SecretString,
    _monitored: &mut Monitored,
) -> Result<ShortLived, StartupError> {
    Err(StartupError::missing_feature(key, "redis"))
}

#[cfg(all(test, feature = "redis"))]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn config_of(settings: &Settings) -> Result<Option<(RedisConfig, &'static str)>, StartupError> {
        match redis_setting(settings)? {
            None => Ok(None),
            Some((key, value)) => Ok(Some((redis_config(settings, key, value)?, key))),
        }
    }

    fn error_of(settings: &Settings) -> String {
        match config_of(settings) {
            Err(StartupError::Config(message)) => message,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn one_node_or_a_cluster_is_chosen_by_which_setting_is_given() {
        assert!(config_of(&Settings::default()).unwrap().is_none());

        let single = Settings { redis_url: Some("redis://127.0.0.1:6379".into()), ..Settings::default() };
        let (config, key) = config_of(&single).unwrap().unwrap();
        assert!(!config.is_cluster());
        assert_eq!(key, "REDIS_URL");

        let nodes = Some("10.0.0.1:6379, 10.0.0.2:6379,".into());
        let cluster = Settings { redis_cluster_nodes: nodes, redis_pool_size: 3, ..Settings::default() };
        let (config, key) = config_of(&cluster).unwrap().unwrap();
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
