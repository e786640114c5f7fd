//! What the pool connects to (one Redis, or a Redis Cluster through seed nodes), how
//! many connections it keeps, how long it waits, and the prefix of every key.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::RedisSetupError;

/// How to reach Redis, how many connections to keep, how long to wait, and the prefix
/// of every key the adapters write.
///
/// Two modes: one Redis at [`RedisConfig::url`] ([`RedisConfig::new`]), or a Redis
/// Cluster found through [`RedisConfig::cluster_nodes`] ([`RedisConfig::cluster`]). The
/// adapters behave the same on both.
///
/// Every wait is bounded, so an outage turns into an error rather than a hang: besides
/// each time-out below, every operation as a whole gives up after
/// [`RedisConfig::max_operation_time`].
#[derive(Clone)]
pub struct RedisConfig {
    /// Single-node mode: `redis://[[user]:password@]host[:port][/db]` or
    /// `redis+unix:///path`. It may hold a password, so it is secret and never printed.
    /// TLS (`rediss://`) is not built in. Ignored when `cluster_nodes` is not empty.
    pub url: SecretString,
    /// Cluster mode when not empty: some nodes of the cluster (`redis://[[user]:password@]host:port`
    /// or plain `host:port`), from which the client learns the others and the slot map.
    /// Every node must take the same credentials. Secret, like `url`.
    pub cluster_nodes: Vec<SecretString>,
    /// Prepended to every key (default `otp:`), so several deployments or test runs can
    /// share one Redis. A prefix with a hash tag (`{...}`) puts every key in one cluster
    /// slot: correct, but all the load lands on one node.
    pub key_prefix: String,
    /// Most connections open at once (default 8). Each is multiplexed (in cluster mode,
    /// one multiplexed connection to every node), so a few go far.
    pub pool_size: usize,
    /// Longest wait to open a connection, including the handshake (default 1 s). In
    /// cluster mode, to each node.
    pub connect_timeout: Duration,
    /// Longest wait for a free connection when all `pool_size` are busy (default 1 s).
    pub wait_timeout: Duration,
    /// Longest wait for the answer to one command (default 500 ms).
    pub response_timeout: Duration,
}

impl RedisConfig {
    /// One Redis at `url`, with the default prefix, pool size and time-outs.
    pub fn new(url: SecretString) -> Self {
        Self {
            url,
            cluster_nodes: Vec::new(),
            key_prefix: "otp:".to_owned(),
            pool_size: 8,
            connect_timeout: Duration::from_secs(1),
            wait_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_millis(500),
        }
    }

    /// A Redis Cluster reached through `nodes` (see [`RedisConfig::cluster_nodes`]), with
    /// the default prefix, pool size and time-outs.
    pub fn cluster(nodes: Vec<SecretString>) -> Self {
        Self { cluster_nodes: nodes, ..Self::new(SecretString::from(String::new())) }
    }

    /// A Redis Cluster reached through a comma-separated list of nodes (the form of a
    /// `REDIS_CLUSTER_NODES` setting: `10.0.0.1:6379,10.0.0.2:6379`). Blank entries are
    /// skipped.
    ///
    /// # Errors
    /// [`RedisSetupError::InvalidSetting`] when the list names no node.
    pub fn cluster_from_list(list: &SecretString) -> Result<Self, RedisSetupError> {
        let nodes: Vec<SecretString> = list
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|node| !node.is_empty())
            .map(|node| SecretString::from(node.to_owned()))
            .collect();
        if nodes.is_empty() {
            return Err(RedisSetupError::InvalidSetting("the list of cluster nodes is empty"));
        }
        Ok(Self::cluster(nodes))
    }

    /// Whether this configuration is for a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        !self.cluster_nodes.is_empty()
    }

    /// The longest any operation takes before it fails as unavailable: `wait_timeout`
    /// (for a free connection) plus `connect_timeout` (to open one) plus five
    /// `response_timeout`s (a health check of a reused connection, the script, the
    /// script again in full to a node that lacks it, waiting for a replica to have a
    /// decision, and one cluster redirection). 4.5 s with the defaults.
    pub fn max_operation_time(&self) -> Duration {
        self.wait_timeout
            .saturating_add(self.connect_timeout)
            .saturating_add(self.response_timeout.saturating_mul(5))
    }

    /// How long a decision waits for a replica to acknowledge it (`WAIT`): half the
    /// response time-out, so the wait ends before the client gives up on the answer.
    pub(crate) fn replica_wait(&self) -> Duration {
        (self.response_timeout / 2).max(Duration::from_millis(1))
    }

    /// The settings checked: every count and time-out above zero, and the cluster nodes
    /// as URLs (a bare `host:port` gets `redis://` in front).
    pub(crate) fn checked_nodes(&self) -> Result<Vec<String>, RedisSetupError> {
        if self.pool_size == 0 {
            return Err(RedisSetupError::InvalidSetting("pool_size must be at least 1"));
        }
        for (timeout, message) in [
            (self.connect_timeout, "connect_timeout must be more than zero"),
            (self.wait_timeout, "wait_timeout must be more than zero"),
            (self.response_timeout, "response_timeout must be more than zero"),
        ] {
            if timeout.is_zero() {
                return Err(RedisSetupError::InvalidSetting(message));
            }
        }
        Ok(self
            .cluster_nodes
            .iter()
            .map(|node| {
                let node = node.expose_secret().trim();
                if node.contains("://") { node.to_owned() } else { format!("redis://{node}") }
            })
            .collect())
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
        let mode = if self.is_cluster() { "cluster" } else { "single node" };
        f.debug_struct("RedisConfig")
            .field("mode", &mode)
            .field("url", &"[redacted]")
            .field("cluster_nodes", &format_args!("[{} redacted]", self.cluster_nodes.len()))
            .field("key_prefix", &self.key_prefix)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("wait_timeout", &self.wait_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_list_selects_cluster_mode_and_bare_addresses_become_urls() {
        let list = SecretString::from(" 10.0.0.1:7000, ,redis://:hunter2@10.0.0.2:7001 ");
        let config = RedisConfig::cluster_from_list(&list).unwrap();
        assert!(config.is_cluster());
        assert_eq!(
            config.checked_nodes().unwrap(),
            ["redis://10.0.0.1:7000", "redis://:hunter2@10.0.0.2:7001"]
        );
        assert!(!format!("{config:?}").contains("hunter2"), "{config:?}");
        assert!(format!("{config:?}").contains("cluster"), "{config:?}");
        assert!(!RedisConfig::default().is_cluster());
    }

    #[test]
    fn an_empty_node_list_is_refused() {
        let error = RedisConfig::cluster_from_list(&SecretString::from(" , ")).unwrap_err();
        assert!(matches!(error, RedisSetupError::InvalidSetting(_)), "{error:?}");
    }

    #[test]
    fn the_deadline_adds_up_the_time_outs_and_the_replica_wait_fits_in_a_response() {
        let config = RedisConfig::default();
        assert_eq!(config.max_operation_time(), Duration::from_millis(4_500));
        assert_eq!(config.replica_wait(), Duration::from_millis(250));
        let tiny = RedisConfig { response_timeout: Duration::from_micros(1), ..RedisConfig::default() };
        assert_eq!(tiny.replica_wait(), Duration::from_millis(1));
    }
}
