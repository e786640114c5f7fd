//! Why a session use case refused or failed.

use std::time::Duration;

use crate::crypto::TokenError;
use crate::error::Failure;

/// Why a token check, a refresh, or a session action refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The access token is malformed, forged, signed by an unknown key, or for another
    /// issuer or audience.
    #[error("access token is invalid")]
    AccessTokenInvalid,
    /// The access token is past its lifetime.
    #[error("access token has expired")]
    AccessTokenExpired,
    /// The token's session was ended (logout, reset, an administrator) or has expired.
    #[error("session has ended")]
    SessionEnded,
    /// The token's account is gone or disabled.
    #[error("account is no longer active")]
    AccountInactive,
    /// The refresh token is not of this service's shape.
    #[error("refresh token is invalid")]
    RefreshTokenMalformed,
    /// The refresh token's session does not exist, was ended, or has expired.
    #[error("refresh token is invalid or expired")]
    RefreshTokenInactive,
    /// The refresh token names a live session but its secret never belonged to it (a
    /// forged token); the session is left alone.
    #[error("refresh token is invalid")]
    RefreshTokenUnrecognised,
    /// The refresh token was already rotated: it was replayed, so its session has
    /// been ended.
    #[error("refresh token was already used; the session has been ended")]
    RefreshTokenReused,
    /// The session has reached its absolute lifetime (`SESSION_MAX_LIFETIME_DAYS`);
    /// signing in again starts a new one.
    #[error("the session has reached its maximum lifetime; sign in again")]
    SessionLifetimeOver,
    /// The session is not an active one of the caller's.
    #[error("session not found")]
    SessionNotFound,
    /// The device is not an active one of the caller's.
    #[error("device not found")]
    DeviceNotFound,
    /// The service credential presented to introspect a token is missing or not one
    /// of the configured ones.
    #[error("a valid service credential is required")]
    ServiceCredentialInvalid,
    /// Too many refreshes from this client, or introspections with this credential.
    #[error("too many requests; try again later")]
    RateLimited {
        /// How long until the next request would be accepted.
        retry_after: Duration,
    },
    /// A backing service is down, or something unexpected broke.
    #[error(transparent)]
    Failure(#[from] Failure),
}

service_error_conversions!(SessionError: port, throttle);

impl From<TokenError> for SessionError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Invalid => Self::AccessTokenInvalid,
            TokenError::Expired => Self::AccessTokenExpired,
        }
    }
}
