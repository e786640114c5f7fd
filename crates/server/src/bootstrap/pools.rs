//! The connection pools' usage, for `/metrics`.

#[cfg(feature = "postgres")]
use otp_postgres::PgPool;
#[cfg(feature = "redis")]
use otp_redis::RedisPool;

use crate::http::metrics::{PoolGauge, PoolUsage};

/// The PostgreSQL pool.
#[cfg(feature = "postgres")]
#[derive(Debug)]
pub struct PostgresGauge(pub PgPool);

#[cfg(feature = "postgres")]
impl PoolGauge for PostgresGauge {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn usage(&self) -> PoolUsage {
        let status = self.0.inner().status();
        PoolUsage {
            max: status.max_size,
            size: status.size,
            available: status.available,
            waiting: status.waiting,
        }
    }
}

/// The Redis pool.
#[cfg(feature = "redis")]
#[derive(Debug)]
pub struct RedisGauge(pub RedisPool);

#[cfg(feature = "redis")]
impl PoolGauge for RedisGauge {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn usage(&self) -> PoolUsage {
        let status = self.0.status();
        PoolUsage {
            max: status.max_size,
            size: status.size,
            available: status.available,
            waiting: status.waiting,
        }
    }
}
