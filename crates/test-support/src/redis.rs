//! A Redis key prefix of one test's own.

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis;
use otp_core::ports::Probe;
use otp_redis::{RedisConfig, RedisPool, RedisProbe, connect};
use secrecy::{ExposeSecret, SecretString};

use crate::blocking::run_on_own_runtime;
use crate::{with_causes, without_password};

/// The Redis the tests use when `TEST_REDIS_URL` is unset.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How to start the local Redis, for the message of a test that cannot reach it.
const START_REDIS: &str =
    "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no";

/// How long the clean-up may take to connect or to run one command.
const CLEAN_UP_TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis the tests use: `TEST_REDIS_URL`, or [`DEFAULT_REDIS_URL`].
pub fn redis_server_url() -> String {
    crate::setting_or("TEST_REDIS_URL", DEFAULT_REDIS_URL)
}

/// The variable the nextest setup script `redis-cluster` (scripts/redis-cluster.sh)
/// exports: the seed nodes of a local Redis Cluster, comma-separated.
pub const CLUSTER_NODES_VARIABLE: &str = "OTP_TEST_REDIS_CLUSTER_NODES";

/// The seed nodes of the test Redis Cluster, as a `REDIS_CLUSTER_NODES` setting takes
/// them.
///
/// # Panics
/// When [`CLUSTER_NODES_VARIABLE`] is unset, with how to start a cluster.
pub fn redis_cluster_nodes() -> String {
    std::env::var(CLUSTER_NODES_VARIABLE).ok().filter(|nodes| !nodes.trim().is_empty()).unwrap_or_else(|| {
        panic!(
            "{CLUSTER_NODES_VARIABLE} is not set: run the tests with `cargo nextest run` (its setup \
             script scripts/redis-cluster.sh starts a cluster), or start one with \
             `scripts/redis-cluster.sh start` and export {CLUSTER_NODES_VARIABLE}=<the nodes it prints>"
        )
    })
}

/// A fresh key prefix, `otp-test:<uuid>:`.
pub fn fresh_key_prefix() -> String {
    format!("otp-test:{}:", uuid::Uuid::new_v4().simple())
}

/// A key prefix of this test's own, `otp-test:<uuid>:`, on the
/// [test Redis](redis_server_url), which answered when the prefix was made.
///
/// Tests that write under their own prefix share nothing, so they run in parallel on one
/// Redis. Handles are cheap to clone; when the last one goes (the test passed or
/// panicked), the keys under the prefix are deleted. Keys the adapters write all expire
/// anyway, so a test killed before its clean-up leaves nothing that lasts.
///
/// ```no_run
/// # async fn example() {
/// let redis = otp_test_support::TestRedis::new().await;
/// let codes = otp_redis::RedisCodeStore::new(redis.pool());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestRedis {
    prefix: Arc<OwnedPrefix>,
}

impl TestRedis {
    /// A fresh prefix, after checking that the test Redis answers `PING`.
    ///
    /// # Panics
    /// When Redis does not answer: the message says how to start it.
    pub async fn new() -> Self {
        let redis =
            Self { prefix: Arc::new(OwnedPrefix { url: redis_server_url(), prefix: fresh_key_prefix() }) };
        live_pool(&redis.config()).await;
        redis
    }

    /// The URL of the test Redis, for `REDIS_URL`.
    pub fn url(&self) -> &str {
        &self.prefix.url
    }

    /// The prefix, `otp-test:<uuid>:`, for `REDIS_KEY_PREFIX`.
    pub fn key_prefix(&self) -> &str {
        &self.prefix.prefix
    }

    /// The adapters' configuration: the test Redis under this prefix, with the default
    /// pool size and time-outs.
    pub fn config(&self) -> RedisConfig {
        RedisConfig {
            key_prefix: self.key_prefix().to_owned(),
            ..RedisConfig::new(SecretString::from(self.url().to_owned()))
        }
    }

    /// A new pool on [`config`](Self::config). Each call makes a pool of its own, as
    /// each instance of the service would have.
    ///
    /// # Panics
    /// When the configuration is refused (`TEST_REDIS_URL` is not a Redis URL).
    pub fn pool(&self) -> RedisPool {
        connect(&self.config())
            .unwrap_or_else(|error| panic!("the test Redis configuration is refused: {error}"))
    }
}

/// A pool on `config`, after checking that Redis answers through it (`PING`).
///
/// [`TestRedis::new`] checks the test Redis this way; this is for tests that reach it
/// another way (through a proxy, with other time-outs).
///
/// # Panics
/// When `config` is refused, or Redis does not answer: the message says how to start the
/// local one.
pub async fn live_pool(config: &RedisConfig) -> RedisPool {
    let pool =
        connect(config).unwrap_or_else(|error| panic!("the test Redis configuration is refused: {error}"));
    if let Err(error) = RedisProbe::new(pool.clone()).check().await {
        panic!(
            "Redis is not reachable at {url} ({error}).\n\
             These tests need a real Redis: start the local one with `{START_REDIS}`, \
             or set TEST_REDIS_URL to another.",
            url = without_password(config.url.expose_secret()),
            error = with_causes(&error),
        );
    }
    pool
}

/// The prefix itself; dropping it deletes the keys under it.
#[derive(Debug)]
struct OwnedPrefix {
    url: String,
    prefix: String,
}

impl Drop for OwnedPrefix {
    fn drop(&mut self) {
        let (url, prefix) = (self.url.clone(), self.prefix.clone());
        match run_on_own_runtime(async move { delete_keys_under(&url, &prefix).await }) {
            Ok(Ok(())) => {}
            Ok(Err(problem)) | Err(problem) => {
                eprintln!("could not delete the test keys under {}: {problem}", self.prefix);
            }
        }
    }
}

/// Deletes every key that starts with `prefix` (which holds no glob characters).
async fn delete_keys_under(url: &str, prefix: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|error| error.to_string())?;
    let mut connection = within(client.get_multiplexed_async_connection()).await?;
    let mut cursor = 0_u64;
    loop {
        let (next, keys): (u64, Vec<String>) = within(
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async::<(u64, Vec<String>)>(&mut connection),
        )
        .await?;
        if !keys.is_empty() {
            within(redis::cmd("UNLINK").arg(&keys).query_async::<()>(&mut connection)).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// `step`'s result, or a message when it fails or takes longer than the clean-up may.
async fn within<T>(step: impl Future<Output = redis::RedisResult<T>>) -> Result<T, String> {
    match tokio::time::timeout(CLEAN_UP_TIMEOUT, step).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(_) => Err(format!("no answer within {CLEAN_UP_TIMEOUT:?}")),
    }
}
