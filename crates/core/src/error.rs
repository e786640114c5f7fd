//! Errors every part of the domain shares: invalid input, port failures, and the
//! failures of a use case that are not the caller's doing. Each capability service has
//! its own error enum (in its module) that embeds [`Failure`].

use std::borrow::Cow;

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
    /// The account a new row was to belong to (a session, a device, a linked identity)
    /// no longer exists: it was deleted while the sign-in ran. Adapters whose store
    /// keeps rows tied to their account report it; the others store the row, which no
    /// request can use once its account is gone.
    #[error("the account no longer exists")]
    AccountGone,
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

/// Why a use case could not finish for a reason that is not the caller's: a backing
/// service is down, or something unexpected broke. Every service error embeds it.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A backing service is unreachable; the caller may retry shortly.
    #[error("a backing service is unavailable")]
    Unavailable(#[source] PortError),
    /// Anything else; the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Failure {
    /// Wraps an unexpected failure.
    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<PortError> for Failure {
    fn from(error: PortError) -> Self {
        match error {
            PortError::Unavailable(_) => Self::Unavailable(error),
            PortError::EmailTaken
            | PortError::IdentityTaken
            | PortError::AccountGone
            | PortError::Failed(_) => Self::Internal(Box::new(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_ports_stay_unavailable_and_others_become_internal() {
        let down = Failure::from(PortError::unavailable("connection refused"));
        assert!(matches!(down, Failure::Unavailable(_)));
        let broken = Failure::from(PortError::failed("constraint"));
        assert!(matches!(broken, Failure::Internal(_)));
    }
}
