//! Why the server could not start.

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A configuration value is missing or invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be prepared.
    #[error("database: {0}")]
    Database(#[source] otp_core::BoxError),
    /// The address could not be bound.
    #[error("binding {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl StartupError {
    pub(crate) fn database(error: impl Into<otp_core::BoxError>) -> Self {
        Self::Database(error.into())
    }
}
