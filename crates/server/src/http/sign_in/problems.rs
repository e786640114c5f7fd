//! How sign-in refusals and failures are answered.

use otp_core::SignInError;

use crate::http::problem::{ApiError, ProblemCode};

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        let code = match error {
            SignInError::Failure(failure) => return failure.into(),
            SignInError::InvalidCredentials => ProblemCode::InvalidCredentials,
            SignInError::AccountDisabled => ProblemCode::AccountDisabled,
            SignInError::PasswordTooWeak(_) => ProblemCode::PasswordTooWeak,
            SignInError::CodeInvalid { .. } => ProblemCode::OtpInvalid,
            SignInError::CodeExpired => ProblemCode::OtpExpired,
            SignInError::CodeAttemptsExceeded => ProblemCode::OtpAttemptsExceeded,
            SignInError::Cooldown { .. } => ProblemCode::OtpCooldown,
            SignInError::CodeSignInLocked { .. } => ProblemCode::OtpLocked,
            SignInError::RateLimited { .. } => ProblemCode::RateLimited,
            SignInError::Busy { .. } => ProblemCode::ServerBusy,
            SignInError::MailBacklog { .. } => ProblemCode::MailBacklog,
        };
        Self::new(code, error.to_string()).retry_after(error.retry_after())
    }
}
