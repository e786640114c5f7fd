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
    /// `key` is set, but what it configures is not in this build.
    #[cfg_attr(
        all(feature = "postgres", feature = "redis", feature = "smtp", feature = "oauth"),
        allow(dead_code)
    )]
    pub(crate) fn missing_feature(key: &str, feature: &str) -> Self {
        Self::Config(format!(
            "{key} is set, but this otp-server was built without the `{feature}` feature \
             (build it with `--features {feature}`, or unset {key})"
        ))
    }

    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn database(error: impl Into<otp_core::BoxError>) -> Self {
        Self::Database(error.into())
    }
}
