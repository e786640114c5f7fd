//! One connection type for both modes: a multiplexed connection to one Redis, or a
//! cluster connection that routes each command to the node owning its slot (following
//! `MOVED`/`ASK` and refreshing the slot map when the cluster changes). The adapters
//! see only [`RedisConnection`]; nothing above this module branches on the mode.

use std::fmt;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_redis::redis::aio::{ConnectionLike, MultiplexedConnection};
use deadpool_redis::redis::cluster::{ClusterClient, ClusterClientBuilder};
use deadpool_redis::redis::cluster_async::ClusterConnection;
use deadpool_redis::redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use deadpool_redis::redis::{
    self, AsyncConnectionConfig, Client, Cmd, FromRedisValue, Pipeline, RedisError, RedisFuture, Value,
};

use crate::{RedisConfig, RedisSetupError};

/// Redirections and reconnections a cluster command may go through before it fails.
/// Each try is bounded by the response time-out and the whole by the pool's deadline.
const CLUSTER_RETRIES: u32 = 4;
/// Shortest and longest pause between two tries of a cluster command, in milliseconds.
const CLUSTER_RETRY_WAIT_MS: (u64, u64) = (20, 400);

/// A single-node connection checked out again within this long of its last checkout,
/// and whose last command did not fail on the connection, is reused without a `PING`:
/// under load every connection is, so no command pays a round trip for the check.
const VERIFY_AFTER_IDLE: Duration = Duration::from_secs(10);

/// A pooled connection: to one Redis, or to every node of a cluster.
pub(crate) struct RedisConnection {
    link: Link,
    /// A command failed on the connection itself (I/O, time-out, lost link): it is
    /// checked with a `PING` before its next use.
    suspect: bool,
}

enum Link {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl From<Link> for RedisConnection {
    fn from(link: Link) -> Self {
        Self { link, suspect: false }
    }
}

/// Whether `error` says the connection itself may be gone, not just the command.
fn lost_link(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
}

impl RedisConnection {
    /// Waits until one replica of the master that holds `key` acknowledges every write
    /// this connection has sent it (`WAIT 1`), for at most `timeout`. Returns how many
    /// replicas did. On a cluster, the command goes to the master of `key`'s slot, over
    /// the same node connection the write took.
    pub(crate) async fn wait_for_replica(&mut self, key: &str, timeout: Duration) -> Result<i64, RedisError> {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut wait = redis::cmd("WAIT");
        wait.arg(1).arg(timeout_ms);
        let Self { link, suspect } = self;
        let acknowledged = async {
            match link {
                Link::Single(connection) => wait.query_async(connection).await,
                Link::Cluster(connection) => {
                    let master = Route::with_key(key.as_bytes(), SlotAddr::Master);
                    let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(master));
                    let reply = connection.route_command(wait, routing).await?.extract_error()?;
                    Ok(i64::from_redis_value(reply)?)
                }
            }
        };
        watched(acknowledged, suspect).await
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let Self { link, suspect } = self;
        let reply = match link {
            Link::Single(connection) => connection.req_packed_command(cmd),
            Link::Cluster(connection) => connection.req_packed_command(cmd),
        };
        Box::pin(watched(reply, suspect))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let Self { link, suspect } = self;
        let replies = match link {
            Link::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Link::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        };
        Box::pin(watched(replies, suspect))
    }

    fn get_db(&self) -> i64 {
        match &self.link {
            Link::Single(connection) => connection.get_db(),
            Link::Cluster(connection) => connection.get_db(),
        }
    }
}

/// `reply`, marking the connection `suspect` when it fails on the connection itself.
async fn watched<T>(
    reply: impl Future<Output = Result<T, RedisError>>,
    suspect: &mut bool,
) -> Result<T, RedisError> {
    let reply = reply.await;
    *suspect |= reply.as_ref().is_err_and(lost_link);
    reply
}

/// What the manager opens connections to.
enum Target {
    Single { client: Client, settings: AsyncConnectionConfig },
    Cluster(ClusterClient),
}

/// Opens connections with the configured time-outs (deadpool-redis's own managers use
/// redis's defaults) and checks reused single-node ones with a `PING` when idle or suspect.
pub(crate) struct Connector {
    target: Target,
}

impl Connector {
    /// A connector for `config`, whose `nodes` are its checked cluster nodes (empty in
    /// single-node mode).
    pub(crate) fn new(config: &RedisConfig, nodes: Vec<String>) -> Result<Self, RedisSetupError> {
        let invalid = |error: RedisError| RedisSetupError::InvalidUrl(error.into());
        let target = if nodes.is_empty() {
            use secrecy::ExposeSecret;
            let client = Client::open(config.url.expose_secret()).map_err(invalid)?;
            let settings = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(config.connect_timeout))
                .set_response_timeout(Some(config.response_timeout));
            Target::Single { client, settings }
        } else {
            let client = ClusterClientBuilder::new(nodes)
                .connection_timeout(config.connect_timeout)
                .response_timeout(config.response_timeout)
                // The pool's deadline bounds the whole operation, retries included.
                .overall_response_timeout(None)
                .retries(CLUSTER_RETRIES)
                .min_retry_wait(CLUSTER_RETRY_WAIT_MS.0)
                .max_retry_wait(CLUSTER_RETRY_WAIT_MS.1)
                .build()
                .map_err(invalid)?;
            Target::Cluster(client)
        };
        Ok(Self { target })
    }
}

impl Connector {
    /// Whether the connections go to a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }
}

impl fmt::Debug for Connector {
    // The client's connection info may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.target {
            Target::Single { .. } => "single node",
            Target::Cluster(_) => "cluster",
        };
        f.debug_struct("Connector").field("mode", &mode).finish_non_exhaustive()
    }
}

impl managed::Manager for Connector {
    type Type = RedisConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<RedisConnection, RedisError> {
        match &self.target {
            Target::Single { client, settings } => client
                .get_multiplexed_async_connection_with_config(settings)
                .await
                .map(|connection| Link::Single(connection).into()),
            Target::Cluster(client) => {
                client.get_async_connection().await.map(|connection| Link::Cluster(connection).into())
            }
        }
    }

    /// A single-node connection idle for [`VERIFY_AFTER_IDLE`], or whose last command
    /// failed on the connection, answers a `PING` before reuse; one that cannot is
    /// replaced. A cluster connection reconnects to the nodes it loses and re-reads the
    /// slot map by itself, so it is reused as it is: a `PING` to every master at each
    /// use would cost a round trip to each, and would fail the whole connection while
    /// one master is failing over.
    async fn recycle(
        &self,
        connection: &mut RedisConnection,
        metrics: &Metrics,
    ) -> RecycleResult<RedisError> {
        let RedisConnection { link: Link::Single(link), suspect } = connection else {
            return Ok(());
        };
        if !*suspect && metrics.last_used() < VERIFY_AFTER_IDLE {
            return Ok(());
        }
        let reply: String = redis::cmd("PING").query_async(link).await?;
        if reply != "PONG" {
            return Err(RecycleError::message("unexpected reply to PING"));
        }
        *suspect = false;
        Ok(())
    }
}
