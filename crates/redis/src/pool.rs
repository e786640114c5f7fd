//! Configuration and the connection pool, with time-outs at every step that can wait.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_redis::redis::aio::MultiplexedConnection;
use deadpool_redis::redis::{self, AsyncConnectionConfig, Client, RedisError, ScriptInvocation};
use otp_core::{BoxError, PortError};
use secrecy::{ExposeSecret, SecretString};

use crate::error;

/// How to reach Redis, how many connections to keep, how long to wait, and the prefix
/// of every key the adapters write.
///
/// Every wait is bounded, so an outage turns into an error rather than a hang: besides
/// each time-out below, every operation as a whole gives up after
/// [`RedisConfig::max_operation_time`].
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[[user]:password@]host[:port][/db]` or `redis+unix:///path`. It may hold a
    /// password, so it is secret and never printed. TLS (`rediss://`) is not built in.
    pub url: SecretString,
    /// Prepended to every key (default `otp:`), so several deployments or test runs can
    /// share one Redis.
    pub key_prefix: String,
    /// Most connections open at once (default 8). Each is multiplexed, so a few go far.
    pub pool_size: usize,
    /// Longest wait to open a connection, including the handshake (default 1 s).
    pub connect_timeout: Duration,
    /// Longest wait for a free connection when all `pool_size` are busy (default 1 s).
    pub wait_timeout: Duration,
    /// Longest wait for the answer to one command (default 500 ms).
    pub response_timeout: Duration,
}

impl RedisConfig {
    /// Redis at `url`, with the default prefix, pool size and time-outs.
    pub fn new(url: SecretString) -> Self {
        Self {
            url,
            key_prefix: "otp:".to_owned(),
            pool_size: 8,
            connect_timeout: Duration::from_secs(1),
            wait_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(500),
        }
    }

    /// The longest any operation takes before it fails as unavailable: `wait_timeout`
    /// (for a free connection) plus `connect_timeout` (to open one) plus four
    /// `response_timeout`s (a health check of a reused connection, the script, and
    /// loading and running it again if Redis has lost it). 4 s with the defaults.
    pub fn max_operation_time(&self) -> Duration {
        self.wait_timeout
            .saturating_add(self.connect_timeout)
            .saturating_add(self.response_timeout.saturating_mul(4))
    }
}

impl Default for RedisConfig {
    /// A local Redis on its standard port (`redis://127.0.0.1:6379`).
    fn default() -> Self {
        Self::new(SecretString::from("redis://127.0.0.1:6379"))
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &"[redacted]")
            .field("key_prefix", &self.key_prefix)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("wait_timeout", &self.wait_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

/// Why [`connect`] could not build a pool. Nothing here means Redis is down: the pool
/// connects lazily; use [`crate::RedisProbe`] to check readiness.
#[derive(Debug, thiserror::Error)]
pub enum RedisSetupError {
    /// The URL could not be parsed or names an unsupported scheme. The URL itself is
    /// not shown, since it may hold a password.
    #[error("invalid Redis URL (not shown, as it may hold a password): {0}")]
    InvalidUrl(#[source] BoxError),
    /// A setting is out of range.
    #[error("invalid Redis setting: {0}")]
    InvalidSetting(&'static str),
    /// The pool could not be built.
    #[error("building the Redis connection pool: {0}")]
    Pool(#[source] BoxError),
}

/// A pool of Redis connections, cheap to clone (clones share the connections), carrying
/// the key prefix every adapter built on it uses.
#[derive(Clone)]
pub struct RedisPool {
    inner: managed::Pool<Connector>,
    key_prefix: Arc<str>,
    deadline: Duration,
}

impl RedisPool {
    /// The prefix of every key written through this pool.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// How many connections are open, idle and allowed, and how many callers wait.
    pub fn status(&self) -> deadpool::Status {
        self.inner.status()
    }

    /// A connection, after a health check if it was used before.
    pub(crate) async fn get(&self) -> Result<managed::Object<Connector>, managed::PoolError<RedisError>> {
        self.inner.get().await
    }

    /// Runs a script that answers with a list of integers, on a pooled connection,
    /// within the deadline.
    pub(crate) async fn run_script(
        &self,
        context: &'static str,
        script: &ScriptInvocation<'_>,
    ) -> Result<Vec<i64>, PortError> {
        self.within_deadline(context, async {
            let mut connection = self.get().await.map_err(|error| error::from_pool(context, error))?;
            script.invoke_async(&mut *connection).await.map_err(|error| error::from_redis(context, error))
        })
        .await
    }

    /// Runs `operation`, failing it as unavailable if it has not finished by the
    /// deadline. Each step has its own time-out, but the pool may health-check several
    /// idle connections in turn before opening a new one; this bounds the whole.
    pub(crate) async fn within_deadline<T>(
        &self,
        context: &'static str,
        operation: impl Future<Output = Result<T, PortError>>,
    ) -> Result<T, PortError> {
        tokio::time::timeout(self.deadline, operation)
            .await
            .unwrap_or_else(|_| Err(error::deadline_passed(context, self.deadline)))
    }
}

impl fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.inner.status();
        f.debug_struct("RedisPool")
            .field("key_prefix", &self.key_prefix)
            .field("max_size", &status.max_size)
            .field("size", &status.size)
            .field("available", &status.available)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Builds a pool for `config`. No connection is opened yet: the first operation opens
/// one, and [`crate::RedisProbe`] tells whether Redis answers.
///
/// # Errors
/// [`RedisSetupError`] when the URL does not parse, a setting is zero, or the pool
/// cannot be built.
pub fn connect(config: &RedisConfig) -> Result<RedisPool, RedisSetupError> {
    if config.pool_size == 0 {
        return Err(RedisSetupError::InvalidSetting("pool_size must be at least 1"));
    }
    for (timeout, message) in [
        (config.connect_timeout, "connect_timeout must be more than zero"),
        (config.wait_timeout, "wait_timeout must be more than zero"),
        (config.response_timeout, "response_timeout must be more than zero"),
    ] {
        if timeout.is_zero() {
            return Err(RedisSetupError::InvalidSetting(message));
        }
    }
    let client = Client::open(config.url.expose_secret())
        .map_err(|error| RedisSetupError::InvalidUrl(error.into()))?;
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.response_timeout));
    let inner = managed::Pool::builder(Connector { client, settings })
        .max_size(config.pool_size)
        .wait_timeout(Some(config.wait_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.response_timeout))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|error| RedisSetupError::Pool(error.into()))?;
    Ok(RedisPool {
        inner,
        key_prefix: Arc::from(config.key_prefix.as_str()),
        deadline: config.max_operation_time(),
    })
}

/// Opens multiplexed connections with the configured time-outs (deadpool-redis's own
/// manager always uses redis's defaults) and checks reused ones with a `PING`.
pub(crate) struct Connector {
    client: Client,
    settings: AsyncConnectionConfig,
}

impl fmt::Debug for Connector {
    // The client's connection info may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Connector")
    }
}

impl managed::Manager for Connector {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<MultiplexedConnection, RedisError> {
        self.client.get_multiplexed_async_connection_with_config(&self.settings).await
    }

    async fn recycle(
        &self,
        connection: &mut MultiplexedConnection,
        _: &Metrics,
    ) -> RecycleResult<RedisError> {
        let reply: String = redis::cmd("PING").query_async(connection).await?;
        if reply == "PONG" { Ok(()) } else { Err(RecycleError::message("unexpected reply to PING")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> RedisConfig {
        RedisConfig::new(SecretString::from(url))
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let no_pool = RedisConfig { pool_size: 0, ..RedisConfig::default() };
        assert!(matches!(connect(&no_pool), Err(RedisSetupError::InvalidSetting(_))));
        let no_wait = RedisConfig { response_timeout: Duration::ZERO, ..RedisConfig::default() };
        assert!(matches!(connect(&no_wait), Err(RedisSetupError::InvalidSetting(_))));
        assert!(connect(&RedisConfig::default()).is_ok());
    }

    #[test]
    fn urls_never_print() {
        let secret = config("redis://:hunter2@localhost:6379/0");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let error = connect(&config("http://:hunter2@localhost")).unwrap_err();
        assert!(matches!(error, RedisSetupError::InvalidUrl(_)), "{error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
        let pool = connect(&secret).unwrap();
        assert!(!format!("{pool:?}").contains("hunter2"));
    }

    #[test]
    fn pools_carry_the_prefix_and_a_deadline_that_adds_up_the_time_outs() {
        let config = RedisConfig { key_prefix: "tenant-a:".to_owned(), ..RedisConfig::default() };
        assert_eq!(config.max_operation_time(), Duration::from_secs(4));
        let pool = connect(&config).unwrap();
        assert_eq!(pool.key_prefix(), "tenant-a:");
        assert_eq!(pool.deadline, Duration::from_secs(4));
    }
}
