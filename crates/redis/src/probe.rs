//! Readiness of Redis.

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::ports::Probe;

use crate::RedisPool;

/// A [`Probe`] named `redis`: sends `PING` within the pool's time-outs and
/// [`crate::RedisConfig::max_operation_time`]: to one Redis over a pooled connection, or
/// to every master of a cluster over a new connection, so it reports the cluster as it
/// is after a failover. Any failure is [`PortError::Unavailable`].
#[derive(Debug, Clone)]
pub struct RedisProbe {
    pool: RedisPool,
}

impl RedisProbe {
    /// A probe of the Redis behind `pool`.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl Probe for RedisProbe {
    fn name(&self) -> &str {
        "redis"
    }

    async fn check(&self) -> Result<(), PortError> {
        self.pool.ping("checking that Redis answers").await
    }
}
