//! Readiness of Redis.

use async_trait::async_trait;
use deadpool_redis::redis;
use otp_core::PortError;
use otp_core::ports::Probe;

use crate::RedisPool;
use crate::error::{unavailable, unexpected_reply};

/// A [`Probe`] named `redis`: takes a connection from the pool and sends `PING`, within
/// the pool's time-outs and [`crate::RedisConfig::max_operation_time`]. Any failure is
/// [`PortError::Unavailable`].
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
        const CONTEXT: &str = "checking that Redis answers";
        self.pool
            .within_deadline(CONTEXT, async {
                let mut connection = self.pool.get().await.map_err(|error| unavailable(CONTEXT, error))?;
                let reply: String = redis::cmd("PING")
                    .query_async(&mut *connection)
                    .await
                    .map_err(|error| unavailable(CONTEXT, error))?;
                if reply == "PONG" { Ok(()) } else { Err(unavailable(CONTEXT, unexpected_reply(reply))) }
            })
            .await
    }
}
