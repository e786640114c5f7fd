//! Opening one connection.
//!
//! `AsyncPgConnection::establish` turns a failure to reach the server into the bare
//! text "error connecting to server", dropping why (refused, no route, DNS). This
//! opens the connection with tokio-postgres itself and keeps the whole cause.
//!
//! With the statement cache off, the connection is also made safe for a transaction
//! pooler (PgBouncer in transaction mode): diesel-async prepares its set-up statements
//! (`SET TIME ZONE`, `SET CLIENT_ENCODING`) as named statements, in separate round trips
//! a pooler may hand to different server connections. Here they run inside one
//! transaction, their statements are closed within it, and the cache is turned off.

use std::error::Error;

use diesel::ConnectionError;
use diesel::connection::CacheSize;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection};

/// Opens a connection to `url` (plain TCP or a Unix socket; no TLS). Without
/// `statement_cache`, every statement is prepared, run and closed afresh, and the
/// set-up leaves no prepared statement behind.
pub(crate) async fn establish(
    url: &str,
    statement_cache: bool,
) -> Result<AsyncPgConnection, ConnectionError> {
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|error| ConnectionError::BadConnection(with_causes(&error)))?;
    if statement_cache {
        return AsyncPgConnection::try_from_client_and_connection(client, connection).await;
    }
    // The connection task is not running yet: drive it here until BEGIN is answered.
    tokio::select! {
        begun = client.batch_execute("BEGIN") => {
            begun.map_err(|error| ConnectionError::BadConnection(with_causes(&error)))?;
        }
        closed = &mut connection => {
            let reason = closed.err().map_or_else(|| "closed".to_owned(), |error| with_causes(&error));
            return Err(ConnectionError::BadConnection(format!("connection lost during set-up: {reason}")));
        }
    }
    let mut connection = AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
    // Dropping the cache closes the set-up's statements, still inside the transaction.
    connection.set_prepared_statement_cache_size(CacheSize::Disabled);
    connection.batch_execute("COMMIT").await.map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}

/// `error: cause: cause of the cause`.
fn with_causes(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
