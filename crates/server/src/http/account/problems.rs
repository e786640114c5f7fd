//! How account self-service refusals and failures are answered.

use otp_core::AccountError;

use crate::http::problem::{ApiError, ProblemCode};

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        let code = match error {
            AccountError::Failure(failure) => return failure.into(),
            AccountError::ConfirmationRequired(_) => ProblemCode::ConfirmationRequired,
            AccountError::InvalidCredentials => ProblemCode::InvalidCredentials,
            AccountError::PasswordTooWeak(_) => ProblemCode::PasswordTooWeak,
            AccountError::CodeInvalid { .. } => ProblemCode::OtpInvalid,
            AccountError::CodeExpired => ProblemCode::OtpExpired,
            AccountError::CodeAttemptsExceeded => ProblemCode::OtpAttemptsExceeded,
            AccountError::Cooldown { .. } => ProblemCode::OtpCooldown,
            AccountError::SameEmail => ProblemCode::ValidationFailed,
            AccountError::EmailTaken => ProblemCode::EmailUnavailable,
            AccountError::UndoInvalid => ProblemCode::UndoInvalid,
            AccountError::IdentityNotFound => ProblemCode::NotFound,
            AccountError::LastSignInMethod => ProblemCode::LastSignInMethod,
            AccountError::RateLimited { .. } => ProblemCode::RateLimited,
            AccountError::Busy { .. } => ProblemCode::ServerBusy,
        };
        Self::new(code, error.to_string()).retry_after(error.retry_after())
    }
}
