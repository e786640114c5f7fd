//! What can go wrong when checking a token, and when setting a verifier up.

use std::sync::Arc;

/// Why a token was not accepted.
///
/// Every variant but [`VerifyError::KeysUnavailable`] and
/// [`VerifyError::LivenessUnavailable`] means the token itself is not good: answer
/// 401. Those two mean the check could not be made (the auth server did not answer):
/// answer 503 and let the client try again; see [`VerifyError::is_unavailable`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization: Bearer …` header, or one that is not a Bearer token.
    #[error("a Bearer access token is required")]
    Missing,
    /// Not a `v4.public.` token, too long, or without a readable key id in its footer.
    #[error("access token is malformed")]
    Malformed,
    /// The footer names a key that is not in the key set (also after a refetch).
    #[error("access token is signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify with the key the footer names.
    #[error("access token signature is invalid")]
    BadSignature,
    /// The signed claims are not those of an otp-auth access token.
    #[error("access token claims are invalid")]
    InvalidClaims,
    /// `exp` has passed (beyond the leeway).
    #[error("access token has expired")]
    Expired,
    /// `iat` lies in the future (beyond the leeway).
    #[error("access token is not valid yet")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("access token is from another issuer")]
    WrongIssuer,
    /// `aud` is not the expected audience.
    #[error("access token is for another audience")]
    WrongAudience,
    /// The introspection endpoint answered `active: false`: the session ended (logout,
    /// revocation, disabled account) although the token has not expired.
    #[error("the session of this access token has ended")]
    Inactive,
    /// The verification keys could not be fetched and none usable are cached.
    #[error("the token verification keys are unavailable")]
    KeysUnavailable(#[source] Arc<FetchError>),
    /// The liveness check failed and the verifier fails closed.
    #[error("the session liveness check is unavailable")]
    LivenessUnavailable(#[source] Arc<FetchError>),
}

impl VerifyError {
    /// Whether the token could not be checked (the auth server did not answer), as
    /// opposed to being refused: such requests deserve 503, not 401.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::KeysUnavailable(_) | Self::LivenessUnavailable(_))
    }

    /// What to tell the client. Deliberately coarse: the exact check that failed is
    /// for logs, not for whoever holds the token.
    pub fn public_detail(&self) -> &'static str {
        match self {
            Self::Missing => "a Bearer access token is required",
            Self::Expired => "access token has expired",
            Self::Inactive => "the session of this access token has ended",
            Self::KeysUnavailable(_) | Self::LivenessUnavailable(_) => {
                "access tokens cannot be checked right now; try again shortly"
            }
            Self::Malformed
            | Self::UnknownKey
            | Self::BadSignature
            | Self::InvalidClaims
            | Self::NotYetValid
            | Self::WrongIssuer
            | Self::WrongAudience => "access token is invalid",
        }
    }
}

/// Why a request to the auth server (keys or introspection) gave no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The connection failed or timed out.
    #[error("request to {url} failed")]
    Transport {
        /// The URL asked.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server answered with a status other than 200.
    #[error("{url} answered with status {status}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The body was larger than allowed.
    #[error("the answer of {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The body was not what the endpoint documents.
    #[error("the answer of {url} is not usable: {reason}")]
    Invalid {
        /// The URL asked.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// No request was sent: the last attempt failed too recently to try again.
    #[error("not asking {url} again yet: the last attempt failed")]
    BackingOff {
        /// The URL that failed.
        url: String,
    },
}

/// A verifier, key set or liveness check that cannot be built as configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither public keys nor a keys URL were given.
    #[error("no verification keys: give PASERK public keys or a keys URL")]
    NoKeys,
    /// Both public keys and a keys URL were given.
    #[error("give either PASERK public keys or a keys URL, not both")]
    BothKeySources,
    /// The issuer or audience to expect is missing (they are required with fixed keys).
    #[error("the expected {0} is required when the keys are given directly")]
    MissingExpectation(&'static str),
    /// A text that should be a `k4.public.` PASERK is not one.
    #[error("not a k4.public PASERK: {0}")]
    NotPaserk(String),
    /// The leeway is larger than [`crate::MAX_LEEWAY`].
    #[error("the leeway must be at most {max:?}")]
    LeewayTooLarge {
        /// The largest leeway accepted.
        max: std::time::Duration,
    },
    /// A URL cannot be parsed or has another scheme than `https` (or `http`).
    #[error("{name} is not a valid http(s) URL: {url}")]
    InvalidUrl {
        /// What the URL is for.
        name: &'static str,
        /// The text given.
        url: String,
    },
    /// A plain `http` URL to a host that is not the loopback interface, without
    /// `allow_plain_http`: keys or credentials over plain HTTP can be forged or stolen.
    #[error("{name} must use https (plain http only to a loopback address or with allow_plain_http): {url}")]
    PlainHttp {
        /// What the URL is for.
        name: &'static str,
        /// The text given.
        url: String,
    },
    /// A refresh or cache setting is out of range.
    #[error("{0}")]
    OutOfRange(&'static str),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built")]
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync>),
}
