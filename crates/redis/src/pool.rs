//! The connection pool, with time-outs at every step that can wait.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed;
use deadpool_redis::redis::{self, RedisError};
use otp_core::{BoxError, PortError};

use crate::RedisConfig;
use crate::connection::Connector;
use crate::error;
use crate::script::ScriptCall;

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
    replica_wait: Duration,
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

    /// Whether the pool's connections go to a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.inner.manager().is_cluster()
    }

    /// A connection, after a health check if it was used before.
    pub(crate) async fn get(&self) -> Result<managed::Object<Connector>, managed::PoolError<RedisError>> {
        self.inner.get().await
    }

    /// A connection for `context`, any failure to get one translated.
    async fn connection(&self, context: &'static str) -> Result<managed::Object<Connector>, PortError> {
        self.get().await.map_err(|error| error::from_pool(context, error))
    }

    /// Runs a script that answers with a list of integers, on a pooled connection,
    /// within the deadline.
    pub(crate) async fn run_script(
        &self,
        context: &'static str,
        script: &ScriptCall<'_>,
    ) -> Result<Vec<i64>, PortError> {
        self.within_deadline(context, async {
            let mut connection = self.connection(context).await?;
            script.run(&mut connection).await.map_err(|error| error::from_redis(context, error))
        })
        .await
    }

    /// Runs a script whose decision must survive a failover, within the deadline.
    ///
    /// The script's reply starts with how many replicas must hold its writes before the
    /// decision may be answered: 0 when it wrote nothing or its node has no replica
    /// (then no failover can lose the write), 1 otherwise. In that case this waits
    /// (`WAIT 1`, for at most half the response time-out) until a replica of the node
    /// that ran the script has acknowledged it; a failover promotes the most up-to-date
    /// replica, so the decision cannot be undone by one. When no replica acknowledges in
    /// time, Redis is unavailable: the write may still be lost, so the decision is not
    /// given. Returns the rest of the reply.
    pub(crate) async fn run_acknowledged_script(
        &self,
        context: &'static str,
        script: &ScriptCall<'_>,
    ) -> Result<Vec<i64>, PortError> {
        let key = script.first_key().unwrap_or_default();
        self.within_deadline(context, async {
            let mut connection = self.connection(context).await?;
            let mut reply: Vec<i64> =
                script.run(&mut connection).await.map_err(|error| error::from_redis(context, error))?;
            if reply.is_empty() {
                return Err(error::unexpected(context, "[]"));
            }
            if reply.remove(0) > 0 {
                let acknowledged = connection
                    .wait_for_replica(key, self.replica_wait)
                    .await
                    .map_err(|error| error::from_redis(context, error))?;
                if acknowledged < 1 {
                    return Err(error::not_replicated(context, self.replica_wait));
                }
            }
            Ok(reply)
        })
        .await
    }

    /// Checks that Redis answers a `PING`, within the deadline: one Redis over a pooled
    /// connection; on a cluster, every master over a new connection. (A pooled cluster
    /// connection keeps the slot map it had: a keyed command refreshes it when a master
    /// has failed over, but a `PING` to every master only fails on the old one. The
    /// probe must see the cluster as it is now, also when no traffic came to refresh.)
    /// Any failure is [`PortError::Unavailable`].
    pub(crate) async fn ping(&self, context: &'static str) -> Result<(), PortError> {
        let ping = redis::cmd("PING");
        self.within_deadline(context, async {
            let reply: String = if self.inner.manager().is_cluster() {
                let mut fresh = managed::Manager::create(self.inner.manager())
                    .await
                    .map_err(|error| error::unavailable(context, error))?;
                ping.query_async(&mut fresh).await
            } else {
                let mut pooled = self.get().await.map_err(|error| error::unavailable(context, error))?;
                ping.query_async(&mut *pooled).await
            }
            .map_err(|error| error::unavailable(context, error))?;
            if reply == "PONG" {
                Ok(())
            } else {
                Err(error::unavailable(context, error::unexpected_reply(reply)))
            }
        })
        .await
    }

    /// Publishes `message` on the pub/sub `channel`, within the deadline.
    pub(crate) async fn publish(
        &self,
        context: &'static str,
        channel: &str,
        message: &str,
    ) -> Result<(), PortError> {
        self.within_deadline(context, async {
            let mut connection = self.connection(context).await?;
            let _receivers: i64 = redis::cmd("PUBLISH")
                .arg(channel)
                .arg(message)
                .query_async(&mut *connection)
                .await
                .map_err(|error| error::from_redis(context, error))?;
            Ok(())
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
            .field("replica_wait", &self.replica_wait)
            .finish()
    }
}

/// Builds a pool for `config`: of connections to one Redis, or to a Redis Cluster when
/// `config.cluster_nodes` is not empty. No connection is opened yet: the first
/// operation opens one, and [`crate::RedisProbe`] tells whether Redis answers.
///
/// # Errors
/// [`RedisSetupError`] when the URL or a node does not parse, a setting is zero, or
/// the pool cannot be built.
pub fn connect(config: &RedisConfig) -> Result<RedisPool, RedisSetupError> {
    let nodes = config.checked_nodes()?;
    let inner = managed::Pool::builder(Connector::new(config, nodes)?)
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
        replica_wait: config.replica_wait(),
    })
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

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
    fn cluster_nodes_never_print_either() {
        let nodes = vec![SecretString::from("http://:hunter2@10.0.0.1:7000")];
        let error = connect(&RedisConfig::cluster(nodes)).unwrap_err();
        assert!(matches!(error, RedisSetupError::InvalidUrl(_)), "{error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
        let nodes = vec![SecretString::from("redis://:hunter2@10.0.0.1:7000")];
        let pool = connect(&RedisConfig::cluster(nodes)).unwrap();
        assert!(!format!("{pool:?}").contains("hunter2"));
    }

    #[test]
    fn pools_carry_the_prefix_and_a_deadline_that_adds_up_the_time_outs() {
        let config = RedisConfig { key_prefix: "tenant-a:".to_owned(), ..RedisConfig::default() };
        let pool = connect(&config).unwrap();
        assert_eq!(pool.key_prefix(), "tenant-a:");
        assert_eq!(pool.deadline, config.max_operation_time());
        assert_eq!(pool.replica_wait, config.replica_wait());
    }
}
