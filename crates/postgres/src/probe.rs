//! Readiness of the database.

use std::time::Duration;

use async_trait::async_trait;
use diesel_async::SimpleAsyncConnection;
use otp_core::PortError;
use otp_core::ports::Probe;

use crate::error::Failure;
use crate::pool::PgPool;

/// Bound of a check when the pool has no timeouts of its own.
const DEFAULT_BOUND: Duration = Duration::from_secs(5);

/// A [`Probe`] named `database`: runs `SELECT 1` on a pooled connection, bounded by
/// the pool's own timeouts (waiting for a connection, then opening or checking one).
#[derive(Debug, Clone)]
pub struct PgProbe {
    pool: PgPool,
}

impl PgProbe {
    /// A probe of the database behind `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The longest a check may take: the pool's wait timeout plus its connect
    /// timeout, twice (checking an idle connection, then opening a new one).
    fn bound(&self) -> Duration {
        let timeouts = self.pool.inner().timeouts();
        let connect = timeouts.create.unwrap_or(DEFAULT_BOUND).max(timeouts.recycle.unwrap_or(DEFAULT_BOUND));
        timeouts.wait.unwrap_or(DEFAULT_BOUND) + connect * 2
    }
}

#[async_trait]
impl Probe for PgProbe {
    fn name(&self) -> &str {
        "database"
    }

    async fn check(&self) -> Result<(), PortError> {
        const ACTION: &str = "checking the database";
        let bound = self.bound();
        let check = async {
            let mut connection = self.pool.connection(ACTION).await?;
            // The simple protocol: no prepared statement, so it works behind any pooler.
            connection
                .batch_execute("SELECT 1")
                .await
                .map_err(|error| PortError::unavailable(Failure::new(ACTION, error)))?;
            Ok(())
        };
        match tokio::time::timeout(bound, check).await {
            Ok(result) => result,
            Err(_) => {
                Err(PortError::unavailable(Failure::new(ACTION, format!("no answer within {bound:?}"))))
            }
        }
    }
}
