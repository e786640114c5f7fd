//! How admin refusals and failures are answered.

use otp_core::AdminError;

use crate::http::problem::{ApiError, ProblemCode};

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        let code = match error {
            AdminError::Failure(failure) => return failure.into(),
            AdminError::NotAnAdministrator => ProblemCode::Forbidden,
            AdminError::ActionRefused(_) => ProblemCode::ActionRefused,
            AdminError::UserNotFound => ProblemCode::NotFound,
            AdminError::Validation(_) => ProblemCode::ValidationFailed,
        };
        Self::new(code, error.to_string())
    }
}
