//! A PostgreSQL database of one test's own.

use std::sync::Arc;
use std::time::Duration;

use otp_postgres::{
    PgConfig, PgError, PgPool, connect, create_database_if_missing, drop_database, run_migrations,
};
use url::Url;

use crate::blocking::run_on_own_runtime;
use crate::{with_causes, without_password};

/// The server the tests use when `TEST_DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How to start the local server, for the message of a test that cannot reach it.
const START_POSTGRES: &str = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";

/// The PostgreSQL server the tests use: `TEST_DATABASE_URL` (the maintenance database of
/// a server where the tests may create and drop databases), or
/// [`DEFAULT_DATABASE_URL`].
pub fn postgres_server_url() -> String {
    crate::setting_or("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
}

/// A fresh database name, `otp_test_<uuid>`.
pub fn fresh_database_name() -> String {
    format!("otp_test_{}", uuid::Uuid::new_v4().simple())
}

/// The URL of the database `name` on the [test server](postgres_server_url): its URL with
/// the database replaced (and percent-encoded where the name needs it).
///
/// # Panics
/// When `TEST_DATABASE_URL` is not a URL that can name a database.
pub fn database_url(name: &str) -> String {
    let server = postgres_server_url();
    let mut url = Url::parse(&server).unwrap_or_else(|error| {
        panic!("TEST_DATABASE_URL is not a URL ({error}): {}", without_password(&server))
    });
    url.path_segments_mut()
        .unwrap_or_else(|()| {
            panic!("TEST_DATABASE_URL cannot name a database: {}", without_password(&server))
        })
        .clear()
        .push(name);
    url.into()
}

/// Fails the test with instructions when the [test server](postgres_server_url) cannot
/// be reached (within 10 s).
///
/// # Panics
/// When PostgreSQL does not answer: the message says how to start it.
pub async fn require_postgres() {
    let config = PgConfig {
        max_connections: 1,
        connect_timeout: Duration::from_secs(10),
        wait_timeout: Duration::from_secs(10),
        ..PgConfig::new(postgres_server_url())
    };
    match connect(&config).await {
        Ok(pool) => pool.close(),
        Err(error) => unreachable_postgres(&error),
    }
}

/// A database of this test's own on the [test server](postgres_server_url), named
/// `otp_test_<uuid>`.
///
/// Handles are cheap to clone; when the last one goes (the test passed or panicked),
/// the database is dropped with `DROP DATABASE ... WITH (FORCE)`, which ends the
/// connections still open on it. Tests therefore share nothing and run in parallel.
///
/// ```no_run
/// # async fn example() {
/// let database = otp_test_support::TestDatabase::migrated().await;
/// let users = otp_postgres::PgUserRepository::new(database.pool().await);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TestDatabase {
    database: Arc<OwnedDatabase>,
}

impl TestDatabase {
    /// A new database with the workspace's migrations applied: what the adapters and
    /// the server expect.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached (the message says how to start it), or the
    /// database cannot be created or migrated.
    pub async fn migrated() -> Self {
        let database = Self::empty().await;
        match run_migrations(database.url()).await {
            Ok(applied) => {
                assert!(!applied.is_empty(), "no migration applied to the new database {}", database.name())
            }
            Err(error) => fail(&error, "migrating", database.name()),
        }
        database
    }

    /// A new database with nothing in it, for tests of creation and migration.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached (the message says how to start it), or the
    /// database cannot be created.
    pub async fn empty() -> Self {
        let database = Self::own(fresh_database_name());
        match create_database_if_missing(database.url()).await {
            Ok(created) => assert!(created, "the fresh database {} existed already", database.name()),
            Err(error) => fail(&error, "creating", database.name()),
        }
        database
    }

    /// A fresh name whose database is left to the code under test to create (the server
    /// at start-up, `otp-server migrate`); dropped at the end like the others, if it was
    /// created.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached: the message says how to start it.
    pub async fn reserved() -> Self {
        Self::reserved_as(fresh_database_name()).await
    }

    /// Like [`reserved`](Self::reserved), with a name of the test's choosing (one that
    /// needs quoting, say). Start it with `otp_test_` so stray databases are easy to
    /// recognise, and make it unique.
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached: the message says how to start it.
    pub async fn reserved_as(name: String) -> Self {
        require_postgres().await;
        Self::own(name)
    }

    fn own(name: String) -> Self {
        let url = database_url(&name);
        Self { database: Arc::new(OwnedDatabase { name, url }) }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.database.name
    }

    /// The database's URL, for a pool, `DATABASE_URL` or the set-up functions.
    pub fn url(&self) -> &str {
        &self.database.url
    }

    /// A pool on this database: up to 8 connections, with patient time-outs (10 s to
    /// connect, 20 s to wait for a free connection) for a busy test machine.
    ///
    /// # Panics
    /// When the database cannot be reached.
    pub async fn pool(&self) -> PgPool {
        let config = PgConfig {
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            wait_timeout: Duration::from_secs(20),
            ..PgConfig::new(self.url())
        };
        connect(&config).await.unwrap_or_else(|error| fail(&error, "connecting to", self.name()))
    }
}

/// The database itself; dropping it drops the database on the server.
#[derive(Debug)]
struct OwnedDatabase {
    name: String,
    url: String,
}

impl Drop for OwnedDatabase {
    fn drop(&mut self) {
        let url = self.url.clone();
        match run_on_own_runtime(async move { drop_database(&url).await }) {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => eprintln!("could not drop the test database {}: {error}", self.name),
            Err(problem) => eprintln!("could not drop the test database {}: {problem}", self.name),
        }
    }
}

/// Fails the test: with start instructions when the server is unreachable.
fn fail(error: &PgError, doing: &str, name: &str) -> ! {
    if matches!(error, PgError::Connect { .. }) {
        unreachable_postgres(error)
    }
    panic!("{doing} the test database {name} failed: {error}")
}

fn unreachable_postgres(error: &PgError) -> ! {
    panic!(
        "PostgreSQL is not reachable at {url} ({error}).\n\
         These tests need a real server: start the local one with `{START_POSTGRES}`, \
         or set TEST_DATABASE_URL to the maintenance database of a server where the tests \
         may create and drop databases.",
        url = without_password(&postgres_server_url()),
        error = with_causes(error),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_are_distinct_test_names() {
        let (first, second) = (fresh_database_name(), fresh_database_name());
        assert_ne!(first, second);
        assert!(first.starts_with("otp_test_") && first.len() == "otp_test_".len() + 32, "{first}");
    }
}
