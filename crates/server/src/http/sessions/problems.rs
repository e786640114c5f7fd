//! How token and session refusals and failures are answered.

use otp_core::SessionError;

use crate::http::problem::{ApiError, ProblemCode};

impl From<SessionError> for ApiError {
    fn from(error: SessionError) -> Self {
        let code = match error {
            SessionError::Failure(failure) => return failure.into(),
            SessionError::AccessTokenInvalid
            | SessionError::AccessTokenExpired
            | SessionError::SessionEnded
            | SessionError::AccountInactive
            | SessionError::RefreshTokenMalformed
            | SessionError::RefreshTokenInactive
            | SessionError::RefreshTokenUnrecognised
            | SessionError::SessionLifetimeOver
            | SessionError::RefreshTokenReused => ProblemCode::TokenInvalid,
            SessionError::SessionNotFound | SessionError::DeviceNotFound => ProblemCode::NotFound,
            SessionError::ServiceCredentialInvalid => ProblemCode::ServiceCredentialInvalid,
            SessionError::RateLimited { .. } => ProblemCode::RateLimited,
        };
        let wait = match error {
            SessionError::RateLimited { retry_after } => Some(retry_after),
            _ => None,
        };
        Self::new(code, error.to_string()).retry_after(wait)
    }
}
