//! Creating the database and running the embedded migrations.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use percent_encoding::percent_decode_str;
use url::Url;

use crate::error::PgError;

/// The schema migrations (this crate's `migrations/` folder),
/// embedded at compile time. [`run_migrations`] applies them; they are public for
/// tools that drive a [`MigrationHarness`] themselves.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long the set-up functions wait for a connection.
pub const SETUP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Advisory lock held while migrating, so instances starting together take turns.
const MIGRATION_LOCK: i64 = 0x6f74_705f_6d69_6772;

/// The database named by `url`, and the URL of the `postgres` maintenance database of
/// the same server (same user, password, host and parameters).
fn split_database(url: &str) -> Result<(String, String), PgError> {
    let mut parsed =
        Url::parse(url).map_err(|error| PgError::InvalidConfig(format!("database URL: {error}")))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(PgError::InvalidConfig(
            "database URL must start with postgres:// or postgresql://".into(),
        ));
    }
    let encoded = parsed.path().trim_start_matches('/');
    let name = percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|_| PgError::InvalidConfig("database name in the URL is not UTF-8".into()))?
        .into_owned();
    if name.is_empty() {
        return Err(PgError::InvalidConfig("database URL names no database".into()));
    }
    parsed.set_path("/postgres");
    Ok((name, parsed.into()))
}

/// `name` as a quoted SQL identifier: `"name"`, with inner double quotes doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn establish(url: &str, context: &'static str) -> Result<AsyncPgConnection, PgError> {
    match tokio::time::timeout(SETUP_CONNECT_TIMEOUT, crate::connection::establish(url, true)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(PgError::Connect { context, source: error.into() }),
        Err(_) => Err(PgError::Connect {
            context,
            source: format!("no connection within {SETUP_CONNECT_TIMEOUT:?}").into(),
        }),
    }
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    found: bool,
}

async fn database_exists(connection: &mut AsyncPgConnection, name: &str) -> Result<bool, PgError> {
    let row: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
            .bind::<Text, _>(name)
            .get_result(connection)
            .await
            .map_err(|source| PgError::Query { context: "looking the database up", source })?;
    Ok(row.found)
}

/// Creates the database `url` names unless it exists, connecting to the `postgres`
/// maintenance database of the same server with the same credentials (which must be
/// allowed to create databases). Returns whether it created it. Safe to call from
/// several processes at once.
///
/// Only URLs (`postgres://...`) are understood, not `key=value` strings.
///
/// # Errors
/// [`PgError::InvalidConfig`] when the URL cannot be read or names no database;
/// [`PgError::Connect`] when the server cannot be reached within
/// [`SETUP_CONNECT_TIMEOUT`]; [`PgError::Query`] when the database cannot be created.
pub async fn create_database_if_missing(url: &str) -> Result<bool, PgError> {
    let (name, maintenance_url) = split_database(url)?;
    let mut connection =
        establish(&maintenance_url, "connecting to the postgres maintenance database").await?;
    if database_exists(&mut connection, &name).await? {
        return Ok(false);
    }
    let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
    match connection.batch_execute(&statement).await {
        Ok(()) => {
            tracing::info!(database = %name, "database created");
            Ok(true)
        }
        // Another process created it between the look-up and here.
        Err(_) if database_exists(&mut connection, &name).await? => Ok(false),
        Err(source) => Err(PgError::Query { context: "creating the database", source }),
    }
}

/// Drops the database `url` names, disconnecting its sessions first
/// (`DROP DATABASE ... WITH (FORCE)`); returns whether it existed. Meant for test
/// harnesses and tear-down scripts.
///
/// # Errors
/// [`PgError::Connect`] when the server cannot be reached; [`PgError::Query`] when the
/// drop fails.
pub async fn drop_database(url: &str) -> Result<bool, PgError> {
    let (name, maintenance_url) = split_database(url)?;
    let mut connection =
        establish(&maintenance_url, "connecting to the postgres maintenance database").await?;
    if !database_exists(&mut connection, &name).await? {
        return Ok(false);
    }
    let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(&name));
    connection
        .batch_execute(&statement)
        .await
        .map_err(|source| PgError::Query { context: "dropping the database", source })?;
    Ok(true)
}

/// Applies the pending [`MIGRATIONS`] to the database `url` names and returns the
/// versions applied (empty when it was up to date). Instances calling it together
/// take turns (a PostgreSQL advisory lock), so each migration is applied once.
///
/// The migrations run on a blocking thread through diesel's synchronous migration
/// harness; this works on any Tokio runtime, current-thread included.
///
/// # Errors
/// [`PgError::Connect`] when the database cannot be reached within
/// [`SETUP_CONNECT_TIMEOUT`]; [`PgError::Migration`] when a migration fails (that
/// migration is rolled back; earlier ones stay applied).
pub async fn run_migrations(url: &str) -> Result<Vec<String>, PgError> {
    let connection = establish(url, "connecting to run the migrations").await?;
    let applied = tokio::task::spawn_blocking(move || migrate(connection))
        .await
        .map_err(|error| PgError::Migration(error.into()))??;
    if !applied.is_empty() {
        tracing::info!(?applied, "database migrations applied");
    }
    Ok(applied)
}

fn migrate(connection: AsyncPgConnection) -> Result<Vec<String>, PgError> {
    let mut connection = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
    let lock = diesel::sql_query("SELECT pg_advisory_lock($1)").bind::<BigInt, _>(MIGRATION_LOCK);
    diesel::RunQueryDsl::execute(lock, &mut connection)
        .map_err(|source| PgError::Query { context: "taking the migration lock", source })?;
    let result = connection
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(PgError::Migration);
    // Closing the connection releases the lock too; unlocking first is tidier.
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(MIGRATION_LOCK);
    let _ = diesel::RunQueryDsl::execute(unlock, &mut connection);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maintenance_url_keeps_everything_but_the_database() {
        let (name, maintenance) =
            split_database("postgres://ann:s%40cret@db.example:6543/otp%20prod?sslmode=disable").unwrap();
        assert_eq!(name, "otp prod");
        assert_eq!(maintenance, "postgres://ann:s%40cret@db.example:6543/postgres?sslmode=disable");
    }

    #[test]
    fn urls_without_a_database_or_of_another_scheme_are_refused() {
        assert!(split_database("postgres://localhost").is_err());
        assert!(split_database("postgres://localhost/").is_err());
        assert!(split_database("mysql://localhost/otp").is_err());
        assert!(split_database("host=localhost dbname=otp").is_err());
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("otp"), "\"otp\"");
        assert_eq!(quote_identifier("a\"; DROP DATABASE x; --"), "\"a\"\"; DROP DATABASE x; --\"");
    }
}
