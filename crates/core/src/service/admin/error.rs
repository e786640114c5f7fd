//! Why an admin use case refused or failed.

use crate::error::{Failure, ValidationError};

/// Why an admin use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The caller is signed in but is not an administrator.
    #[error("this needs an administrator")]
    NotAnAdministrator,
    /// The rules do not allow this action on this account (the caller's own account,
    /// the configured administrator account, an unverified address made administrator).
    #[error("{0}")]
    ActionRefused(&'static str),
    /// No account has this id.
    #[error("user not found")]
    UserNotFound,
    /// A search or page size out of range.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A backing service is down, or something unexpected broke.
    #[error(transparent)]
    Failure(#[from] Failure),
}

service_error_conversions!(AdminError: port);
