//! Why a provider could not be set up.

/// A provider setting is unusable. `setting` names it the way the configuration does,
/// without the provider prefix (`token_url`, `client_id`): the server prefixes it
/// (`GOOGLE_TOKEN_URL`).
#[derive(Debug, thiserror::Error)]
pub enum OAuthSetupError {
    /// A setting is empty, malformed, or not allowed (a plain-HTTP endpoint off this
    /// machine).
    #[error("{setting}: {reason}")]
    InvalidSetting {
        /// The setting at fault.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

impl OAuthSetupError {
    pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidSetting { setting, reason: reason.into() }
    }

    /// The setting at fault, when one is.
    pub fn setting(&self) -> Option<&'static str> {
        match self {
            Self::InvalidSetting { setting, .. } => Some(setting),
            Self::HttpClient(_) => None,
        }
    }
}
