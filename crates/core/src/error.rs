//! Errors of the domain: invalid input, port failures, and use-case outcomes.

use std::borrow::Cow;
use std::time::Duration;

use crate::ports::OAuthError;

/// A boxed error from an adapter, kept for its cause chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A value from outside failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct ValidationError {
    /// The input field at fault (`email`, `password`, `code`, ...).
    pub field: &'static str,
    /// What is wrong with it, phrased to follow the field name.
    pub message: Cow<'static, str>,
}

impl ValidationError {
    /// A validation failure of `field`.
    pub fn new(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { field, message: message.into() }
    }
}

/// What an adapter reports when a port operation fails.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// [`crate::ports::UserRepository::create`] found the address already registered.
    #[error("email address already registered")]
    EmailTaken,
    /// [`crate::ports::IdentityRepository::link`] found the provider identity already
    /// linked to an account.
    #[error("provider identity already linked")]
    IdentityTaken,
    /// The backing service could not be reached or timed out; the caller may retry later.
    #[error("backend unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The backing service answered, but the operation failed unexpectedly.
    #[error("backend failed: {0}")]
    Failed(#[source] BoxError),
}

impl PortError {
    /// Wraps a connection or time-out failure.
    pub fn unavailable(error: impl Into<BoxError>) -> Self {
        Self::Unavailable(error.into())
    }

    /// Wraps any other failure.
    pub fn failed(error: impl Into<BoxError>) -> Self {
        Self::Failed(error.into())
    }
}

/// Why a use case refused or failed. Each variant maps to one stable machine code
/// ([`AuthError::code`]); the HTTP layer maps codes to statuses.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Input failed validation.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Unknown email, wrong password, or an account without a password.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    /// The password was right but the address has not been verified.
    #[error("email address is not verified; enter the code sent to it, or request a new one")]
    EmailNotVerified,
    /// The account has been disabled by an administrator.
    #[error("account is disabled")]
    AccountDisabled,
    /// The code is wrong, already used, or none was issued.
    #[error("{}", otp_invalid_detail(*attempts_remaining))]
    OtpInvalid {
        /// Tries left on the current code, when one is active.
        attempts_remaining: Option<u32>,
    },
    /// The code's lifetime has passed.
    #[error("code has expired; request a new one")]
    OtpExpired,
    /// Too many wrong tries: the code is dead even if the right digits are entered now.
    #[error("too many wrong codes; request a new one")]
    OtpAttemptsExceeded,
    /// A new code for this address was sent too recently.
    #[error("a code was sent recently; wait before asking for another")]
    OtpCooldown {
        /// How long until a new code may be sent.
        retry_after: Duration,
    },
    /// Too many requests from this client or for this address.
    #[error("too many requests; try again later")]
    RateLimited {
        /// How long until the next request would be accepted.
        retry_after: Duration,
    },
    /// The access or refresh token is malformed, forged, expired, or revoked.
    #[error("{0}")]
    TokenInvalid(&'static str),
    /// The named resource does not exist or does not belong to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Sign-in with this provider is not configured on this server.
    #[error("sign-in with {0} is not configured on this server")]
    OAuthProviderNotConfigured(String),
    /// The redirect URI asked for is not on the allow-list.
    #[error("redirect_uri is not on this server's allow-list for this provider")]
    OAuthRedirectUriNotAllowed,
    /// The `state` is unknown, malformed, or was already used.
    #[error("the sign-in state is unknown or has already been used; start the sign-in again")]
    OAuthStateInvalid,
    /// The `state` was issued too long ago.
    #[error("the sign-in state has expired; start the sign-in again")]
    OAuthStateExpired,
    /// The `state` was issued for a sign-in with another provider.
    #[error("the sign-in state was issued for another provider; start the sign-in again")]
    OAuthStateProviderMismatch,
    /// The callback named another redirect URI than the sign-in was started with.
    #[error("redirect_uri differs from the one the sign-in was started with")]
    OAuthRedirectUriMismatch,
    /// The provider refused the sign-in or could not be used.
    #[error(transparent)]
    OAuth(OAuthError),
    /// A provider identity's verified address belongs to an account whose address was
    /// never verified, so the identity is not linked to it.
    #[error(
        "an account with this email address exists but its address has not been verified; sign in with a \
         code sent to the address first, then sign in with the provider again to link it"
    )]
    AccountExists,
    /// The caller is signed in but lacks the role the operation needs.
    #[error("{0}")]
    Forbidden(&'static str),
    /// An administrator asked for something the rules do not allow on this account
    /// (disabling or deleting themself, demoting the `ADMIN_EMAIL` account, ...).
    #[error("{0}")]
    ActionRefused(&'static str),
    /// A backing service is unreachable.
    #[error("a backing service is unavailable")]
    Unavailable(#[source] PortError),
    /// Anything else; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

fn otp_invalid_detail(attempts_remaining: Option<u32>) -> String {
    match attempts_remaining {
        Some(1) => "code is incorrect; 1 try left".to_owned(),
        Some(left) => format!("code is incorrect; {left} tries left"),
        None => "code is incorrect or has already been used; request a new one".to_owned(),
    }
}

impl AuthError {
    /// The stable machine code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidCredentials => "invalid_credentials",
            Self::EmailNotVerified => "email_not_verified",
            Self::AccountDisabled => "account_disabled",
            Self::OtpInvalid { .. } => "otp_invalid",
            Self::OtpExpired => "otp_expired",
            Self::OtpAttemptsExceeded => "otp_attempts_exceeded",
            Self::OtpCooldown { .. } => "otp_cooldown",
            Self::RateLimited { .. } => "rate_limited",
            Self::TokenInvalid(_) => "token_invalid",
            Self::NotFound(_) => "not_found",
            Self::OAuthProviderNotConfigured(_) => "oauth_provider_not_configured",
            Self::OAuthRedirectUriNotAllowed => "oauth_redirect_uri_not_allowed",
            Self::OAuthStateInvalid => "oauth_state_invalid",
            Self::OAuthStateExpired => "oauth_state_expired",
            Self::OAuthStateProviderMismatch => "oauth_state_provider_mismatch",
            Self::OAuthRedirectUriMismatch => "oauth_redirect_uri_mismatch",
            Self::OAuth(error) => match error {
                OAuthError::CodeRejected => "oauth_code_rejected",
                OAuthError::InvalidIdToken(_) => "oauth_id_token_invalid",
                OAuthError::IdTokenAudience => "oauth_id_token_audience",
                OAuthError::IdTokenNonce => "oauth_id_token_nonce",
                OAuthError::EmailNotVerified => "oauth_email_not_verified",
                OAuthError::Unavailable(_) => "oauth_provider_unavailable",
            },
            Self::AccountExists => "account_exists",
            Self::Forbidden(_) => "forbidden",
            Self::ActionRefused(_) => "action_refused",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// How long the client should wait, for the refusals that have a wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::OtpCooldown { retry_after } | Self::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

impl From<PortError> for AuthError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(_) => Self::Unavailable(error),
            PortError::EmailTaken | PortError::IdentityTaken | PortError::Failed(_) => {
                Self::Internal(Box::new(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otp_invalid_says_how_many_tries_are_left() {
        let one = AuthError::OtpInvalid { attempts_remaining: Some(1) };
        assert_eq!(one.to_string(), "code is incorrect; 1 try left");
        let none = AuthError::OtpInvalid { attempts_remaining: None };
        assert!(none.to_string().contains("request a new one"));
    }

    #[test]
    fn unavailable_ports_stay_unavailable_and_others_become_internal() {
        let down = AuthError::from(PortError::unavailable("connection refused"));
        assert_eq!(down.code(), "unavailable");
        let broken = AuthError::from(PortError::failed("constraint"));
        assert_eq!(broken.code(), "internal");
    }

    #[test]
    fn provider_failures_each_have_their_own_code() {
        let codes: Vec<&str> = [
            OAuthError::CodeRejected,
            OAuthError::InvalidIdToken("bad signature".into()),
            OAuthError::IdTokenAudience,
            OAuthError::IdTokenNonce,
            OAuthError::EmailNotVerified,
            OAuthError::unavailable("timed out"),
        ]
        .into_iter()
        .map(|error| AuthError::OAuth(error).code())
        .collect();
        let mut distinct = codes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), codes.len(), "{codes:?}");
        assert!(codes.iter().all(|code| code.starts_with("oauth_")));
        let hidden = AuthError::OAuth(OAuthError::unavailable("secret upstream detail"));
        assert!(!hidden.to_string().contains("secret upstream detail"));
    }

    #[test]
    fn waits_are_reported_only_for_throttles() {
        let limited = AuthError::RateLimited { retry_after: Duration::from_secs(7) };
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(AuthError::InvalidCredentials.retry_after(), None);
    }
}
