//! The connection pool every adapter of this crate shares, and the one way the
//! adapters run statements on it.

use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{Hook, HookError, HookResult, Metrics};
use diesel::QueryResult;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, SimpleAsyncConnection, TransactionManager};
use otp_core::PortError;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{PgError, from_pool, from_query};

/// The pool of PostgreSQL connections the adapters share: a diesel-async
/// [`Pool<AsyncPgConnection>`] on deadpool. Cloning it is cheap and shares the
/// connections.
#[derive(Clone)]
pub struct PgPool {
    inner: Pool<AsyncPgConnection>,
    statement_cache: bool,
}

/// Statements run by an adapter on one connection: an async closure whose future is
/// `Send` (diesel-async's `transaction` bounds its closures the same way).
pub(crate) trait Work<'c, T>:
    AsyncFnOnce(&'c mut AsyncPgConnection) -> QueryResult<T>
    + FnOnce(&'c mut AsyncPgConnection) -> <Self as Work<'c, T>>::Fut
{
    type Fut: Future<Output = QueryResult<T>> + Send;
}

impl<'c, T, F, Fut> Work<'c, T> for F
where
    F: AsyncFnOnce(&'c mut AsyncPgConnection) -> QueryResult<T> + FnOnce(&'c mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = QueryResult<T>> + Send,
{
    type Fut = Fut;
}

impl PgPool {
    /// Wraps a pool built elsewhere, whose connections keep their prepared statements.
    /// Give it wait, create and recycle timeouts (and the Tokio runtime they need):
    /// without them, port calls during an outage wait for as long as the driver does
    /// instead of failing promptly. Behind a transaction pooler, use [`build_pool`]
    /// with `statement_cache: false` instead.
    pub fn from_pool(inner: Pool<AsyncPgConnection>) -> Self {
        Self { inner, statement_cache: true }
    }

    /// The underlying pool, for queries of the embedding application.
    pub fn inner(&self) -> &Pool<AsyncPgConnection> {
        &self.inner
    }

    /// Closes the pool: idle connections are dropped and every later call fails
    /// with `PortError::Unavailable`.
    pub fn close(&self) {
        self.inner.close();
    }

    /// A connection for a port method; any failure to get one is a `PortError`.
    pub(crate) async fn connection(&self, action: &'static str) -> Result<Connection, PortError> {
        self.inner.get().await.map_err(|error| from_pool(action, error))
    }

    /// Runs a port method's statements (`work`) on a pooled connection, its failures
    /// translated for `action`.
    ///
    /// With the statement cache off, `work` runs inside one transaction: diesel-async
    /// prepares every statement as a named statement and runs it in a later round trip,
    /// and a transaction pooler keeps one server connection for a client only until its
    /// transaction ends. In a transaction, the statement is prepared, run and closed on
    /// the same server connection. That costs two round trips more (`BEGIN`, `COMMIT`).
    pub(crate) async fn run<T, F>(&self, action: &'static str, work: F) -> Result<T, PortError>
    where
        F: for<'c> Work<'c, T> + Send,
        T: Send,
    {
        let mut connection = self.connection(action).await?;
        let connection: &mut AsyncPgConnection = &mut connection;
        if self.statement_cache {
            return work(connection).await.map_err(|error| from_query(action, error));
        }
        within_transaction(connection, action, work).await
    }

    /// Runs several statements (`work`) as one transaction, whatever the statement
    /// cache: all of their changes are committed, or none.
    pub(crate) async fn transaction<T, F>(&self, action: &'static str, work: F) -> Result<T, PortError>
    where
        F: for<'c> Work<'c, T> + Send,
        T: Send,
    {
        let mut connection = self.connection(action).await?;
        within_transaction(&mut connection, action, work).await
    }
}

async fn within_transaction<T, F>(
    connection: &mut AsyncPgConnection,
    action: &'static str,
    work: F,
) -> Result<T, PortError>
where
    F: for<'c> Work<'c, T> + Send,
    T: Send,
{
    AnsiTransactionManager::begin_transaction(connection).await.map_err(|error| from_query(action, error))?;
    match work(&mut *connection).await {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(connection)
                .await
                .map_err(|error| from_query(action, error))?;
            Ok(value)
        }
        Err(error) => {
            // A connection whose rollback fails is marked broken and not reused.
            let _ = AnsiTransactionManager::rollback_transaction(connection).await;
            Err(from_query(action, error))
        }
    }
}

/// A pooled connection.
pub(crate) type Connection = Object<AsyncPgConnection>;

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.inner.status();
        f.debug_struct("PgPool")
            .field("max_size", &status.max_size)
            .field("size", &status.size)
            .field("available", &status.available)
            .field("statement_cache", &self.statement_cache)
            .finish()
    }
}

/// How to reach PostgreSQL and how long to wait for it.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// Connection URL (`postgres://user:password@host:5432/database`); it may hold a
    /// password, so it never prints.
    pub url: SecretString,
    /// Most connections open at once (at least 1).
    pub max_connections: usize,
    /// Longest time to open a new connection, or to check an idle one before reuse.
    pub connect_timeout: Duration,
    /// Longest time to wait for a free connection when all are in use.
    pub wait_timeout: Duration,
    /// Whether connections keep their prepared statements for reuse (default `true`).
    /// Turn it off behind a pooler in transaction mode that does not track prepared
    /// statements (PgBouncer before 1.21, or 1.21 and later with
    /// `max_prepared_statements = 0`): then every statement is prepared, run and
    /// closed within one transaction, so any server connection may serve it.
    pub statement_cache: bool,
}

impl PgConfig {
    /// Settings for `url` with the defaults: 10 connections, 5 s to connect, 5 s to
    /// wait for a free connection, statement cache on.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(5),
            statement_cache: true,
        }
    }
}

/// Builds the pool without opening any connection: connections are made on first
/// use. Every wait is bounded: when PostgreSQL is down or unreachable, port methods
/// fail with `PortError::Unavailable` after at most about `wait_timeout` plus twice
/// `connect_timeout`, never hang.
///
/// # Errors
/// [`PgError::InvalidConfig`] when `max_connections` is 0; [`PgError::Pool`] when
/// the pool cannot be built.
pub fn build_pool(config: &PgConfig) -> Result<PgPool, PgError> {
    if config.max_connections == 0 {
        return Err(PgError::InvalidConfig("max_connections must be at least 1".into()));
    }
    let statement_cache = config.statement_cache;
    let check_timeout = config.connect_timeout;
    let mut setup = ManagerConfig::default();
    setup.custom_setup = Box::new(move |url| Box::pin(crate::connection::establish(url, statement_cache)));
    // A connection whose socket closed or whose transaction broke is never reused (the
    // fast check, in memory); one idle for long is also asked a query first (the hook).
    setup.recycling_method = RecyclingMethod::Fast;
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(config.url.expose_secret(), setup);
    Pool::builder(manager)
        .max_size(config.max_connections)
        .wait_timeout(Some(config.wait_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .runtime(Runtime::Tokio1)
        .pre_recycle(Hook::async_fn(move |connection, metrics| {
            Box::pin(check_if_idle(connection, *metrics, check_timeout))
        }))
        .build()
        .map(|inner| PgPool { inner, statement_cache })
        .map_err(PgError::Pool)
}

/// A connection checked out again within this long of its last checkout is reused
/// without a query: under load every connection is, so no request pays a round trip
/// for the check. One idle longer (a firewall or a pooler may have dropped it without
/// the socket noticing) answers a simple-protocol `SELECT 1` first: one round trip, and
/// no prepared statement for a pooler to lose.
const VERIFY_AFTER_IDLE: Duration = Duration::from_secs(10);

/// The check of a connection idle for [`VERIFY_AFTER_IDLE`] or more, within `timeout`
/// (deadpool's recycle time-out does not cover hooks).
async fn check_if_idle(
    connection: &mut AsyncPgConnection,
    metrics: Metrics,
    timeout: Duration,
) -> HookResult<PoolError> {
    if metrics.last_used() < VERIFY_AFTER_IDLE {
        return Ok(());
    }
    match tokio::time::timeout(timeout, connection.batch_execute("SELECT 1")).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(HookError::Backend(PoolError::QueryError(error))),
        Err(_) => Err(HookError::message("an idle connection did not answer in time")),
    }
}

/// Builds the pool (see [`build_pool`]) and checks that one connection can be
/// made, so a wrong URL or a server that is down is reported at start-up.
///
/// # Errors
/// What [`build_pool`] returns, and [`PgError::Connect`] when no connection can be
/// made within the timeouts.
pub async fn connect(config: &PgConfig) -> Result<PgPool, PgError> {
    let pool = build_pool(config)?;
    let connection = pool
        .inner
        .get()
        .await
        .map_err(|error| PgError::Connect { context: "opening the pool", source: error.into() })?;
    drop(connection);
    Ok(pool)
}
