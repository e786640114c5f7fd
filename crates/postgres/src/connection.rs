//! Opening one connection.
//!
//! `AsyncPgConnection::establish` turns a failure to reach the server into the bare
//! text "error connecting to server", dropping why (refused, no route, DNS). This
//! opens the connection with tokio-postgres itself and keeps the whole cause.

use std::error::Error;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;

/// Opens a connection to `url` (plain TCP or a Unix socket; no TLS).
pub(crate) async fn establish(url: &str) -> Result<AsyncPgConnection, ConnectionError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|error| ConnectionError::BadConnection(with_causes(&error)))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection).await
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
