//! Why a provider sign-in refused or failed.

use std::time::Duration;

use crate::error::{Failure, ValidationError};
use crate::ports::OAuthError;

/// Why a sign-in with a provider was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthSignInError {
    /// The service does not know this provider at all.
    #[error("no such sign-in provider")]
    UnknownProvider,
    /// The provider is known, but sign-in with it is not configured on this server.
    #[error("sign-in with {0} is not configured on this server")]
    ProviderNotConfigured(String),
    /// The redirect URI asked for is not on the allow-list.
    #[error("redirect_uri is not on this server's allow-list for this provider")]
    RedirectUriNotAllowed,
    /// The `state` is unknown, malformed, or was already used.
    #[error("the sign-in state is unknown or has already been used; start the sign-in again")]
    StateInvalid,
    /// The `state` was issued too long ago.
    #[error("the sign-in state has expired; start the sign-in again")]
    StateExpired,
    /// The `state` was issued for a sign-in with another provider.
    #[error("the sign-in state was issued for another provider; start the sign-in again")]
    StateProviderMismatch,
    /// The callback named another redirect URI than the sign-in was started with.
    #[error("redirect_uri differs from the one the sign-in was started with")]
    RedirectUriMismatch,
    /// The callback did not present the client binding `start` answered.
    #[error("client_binding is required: send the one the start of this sign-in answered")]
    ClientBindingMissing,
    /// The callback presented another client binding than the one `start` gave: the
    /// callback belongs to a sign-in begun elsewhere (possibly a lure).
    #[error(
        "client_binding does not match this sign-in; it was started by another client, so start it again"
    )]
    ClientBindingMismatch,
    /// The authorization code presented at the callback is malformed.
    #[error(transparent)]
    AuthorizationCode(ValidationError),
    /// The provider refused the sign-in or could not be used.
    #[error(transparent)]
    Provider(OAuthError),
    /// A provider identity's verified address belongs to an account whose address was
    /// never verified, so the identity is not linked to it.
    #[error(
        "an account with this email address exists but its address has not been verified; sign in with a \
         code sent to the address first, then sign in with the provider again to link it"
    )]
    AccountExists,
    /// The account has been disabled by an administrator, or was deleted while the
    /// sign-in ran.
    #[error("account is disabled")]
    AccountDisabled,
    /// Too many provider sign-ins from this client.
    #[error("too many requests; try again later")]
    RateLimited {
        /// How long until the next request would be accepted.
        retry_after: Duration,
    },
    /// A backing service is down, or something unexpected broke.
    #[error(transparent)]
    Failure(#[from] Failure),
}

service_error_conversions!(OAuthSignInError: port, throttle, start);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_failures_keep_their_cause_out_of_the_message() {
        let hidden = OAuthSignInError::Provider(OAuthError::unavailable("secret upstream detail"));
        assert!(!hidden.to_string().contains("secret upstream detail"));
    }
}
