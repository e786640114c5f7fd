//! Every error as RFC 9457 problem details with a stable machine `code`.
//!
//! The codes, their statuses and titles are declared once, in [`code`]. Each capability
//! maps its own service error to an [`ApiError`] (in its `problems.rs`); what every
//! capability shares (validation, a failure of a backing service) is mapped here.

pub mod code;
pub mod responses;

use std::fmt;
use std::time::Duration;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
pub use code::ProblemCode;
use otp_core::{Failure, ValidationError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every error response (RFC 9457 problem details).
#[derive(Debug, Serialize, PartialEq, Eq, ToSchema)]
#[schema(example = json!({
    "type": "urn:otp-auth:problem:otp_invalid",
    "title": "Code is incorrect",
    "status": 400,
    "detail": "code is incorrect; 4 tries left",
    "code": "otp_invalid"
}))]
pub struct Problem {
    /// A URI naming the problem type: `urn:otp-auth:problem:` followed by `code`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the problem type.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// What happened, for programs: branch on this, not on `detail`.
    pub code: ProblemCode,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    code: ProblemCode,
    status: StatusCode,
    detail: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error answered with `code`'s status.
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self { code, status: code.status(), detail: detail.into(), retry_after: None }
    }

    /// A `validation_failed` error (422).
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::ValidationFailed, detail)
    }

    /// The same error with `Retry-After` (whole seconds, rounded up).
    #[must_use]
    pub fn retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait.map(|wait| wait.as_secs_f64().ceil() as u64);
        self
    }

    /// The machine code.
    pub fn code(&self) -> ProblemCode {
        self.code
    }

    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What it says to people.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The same code answered with another status (only `validation_failed` for a body
    /// that is not JSON at all uses this).
    fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code.as_str(), self.status.as_u16(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let problem = Problem {
            kind: format!("urn:otp-auth:problem:{}", self.code.as_str()),
            title: self.code.title(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
        };
        let mut response = HttpResponse::build(self.status);
        response.content_type(PROBLEM_JSON);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        if self.code == ProblemCode::TokenInvalid {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
        }
        if self.code == ProblemCode::ServiceCredentialInvalid {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="introspection""#));
        }
        response.json(problem)
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::validation(error.to_string())
    }
}

/// A backing service down (503 `unavailable`) or an unexpected error (500 `internal`):
/// the cause is logged, the answer is generic.
impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Unavailable(cause) => {
                tracing::error!(error = %cause, source = ?std::error::Error::source(&cause), "backing service unavailable");
                Self::new(ProblemCode::Unavailable, "a backing service is unavailable; try again shortly")
            }
            Failure::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                Self::new(ProblemCode::Internal, "an unexpected error occurred")
            }
        }
    }
}

/// Maps JSON extraction failures: too large, wrong media type, not JSON, or not the
/// expected shape.
pub fn json_error(error: JsonPayloadError, _request: &HttpRequest) -> actix_web::Error {
    let api = match &error {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::new(ProblemCode::PayloadTooLarge, format!("request body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => ApiError::new(
            ProblemCode::UnsupportedMediaType,
            "request body must be JSON (Content-Type: application/json)",
        ),
        JsonPayloadError::Deserialize(inner) if inner.is_syntax() || inner.is_eof() => {
            ApiError::validation(format!("request body is not valid JSON: {inner}"))
                .with_status(StatusCode::BAD_REQUEST)
        }
        JsonPayloadError::Deserialize(inner) => ApiError::validation(inner.to_string()),
        other => ApiError::validation(other.to_string()).with_status(StatusCode::BAD_REQUEST),
    };
    api.into()
}

/// Maps path-parameter failures (for example a session id that is not a UUID).
pub fn path_error(error: PathError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::new(ProblemCode::NotFound, format!("no such resource: {error}")).into()
}

/// Maps query-string failures.
pub fn query_error(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::validation(format!("invalid query string: {error}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_carry_a_whole_number_of_seconds() {
        let error = ApiError::new(ProblemCode::RateLimited, "slow down")
            .retry_after(Some(Duration::from_millis(1500)));
        assert_eq!((error.status, error.retry_after), (StatusCode::TOO_MANY_REQUESTS, Some(2)));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let error = ApiError::from(Failure::internal("database password is hunter2"));
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.detail.contains("hunter2"));
    }

    #[test]
    fn unavailable_ports_stay_unavailable_and_others_become_internal() {
        let down = ApiError::from(Failure::from(otp_core::PortError::unavailable("connection refused")));
        assert_eq!(down.code().as_str(), "unavailable");
        let broken = ApiError::from(Failure::from(otp_core::PortError::failed("constraint")));
        assert_eq!(broken.code().as_str(), "internal");
    }

    /// Every error each capability can answer with; the matches fail to compile when a
    /// variant is added, so its code cannot be left out.
    fn every_service_error() -> Vec<ApiError> {
        use otp_core::ports::OAuthError;
        use otp_core::{AccountError, AdminError, OAuthSignInError, SessionError, SignInError};

        let wait = Duration::from_secs(1);
        let sign_in = [
            SignInError::InvalidCredentials,
            SignInError::AccountDisabled,
            SignInError::PasswordTooWeak(otp_core::domain::WeakPassword {
                score: 0,
                required: 3,
                advice: "Add another word or two.".into(),
            }),
            SignInError::CodeInvalid { attempts_remaining: None },
            SignInError::CodeExpired,
            SignInError::CodeAttemptsExceeded,
            SignInError::Cooldown { retry_after: wait },
            SignInError::CodeSignInLocked { retry_after: wait },
            SignInError::RateLimited { retry_after: wait },
            SignInError::Busy { retry_after: wait },
            SignInError::MailBacklog { retry_after: wait },
            SignInError::Failure(Failure::internal("bug")),
        ];
        for error in &sign_in {
            match error {
                SignInError::InvalidCredentials
                | SignInError::AccountDisabled
                | SignInError::PasswordTooWeak(_)
                | SignInError::CodeInvalid { .. }
                | SignInError::CodeExpired
                | SignInError::CodeAttemptsExceeded
                | SignInError::Cooldown { .. }
                | SignInError::CodeSignInLocked { .. }
                | SignInError::RateLimited { .. }
                | SignInError::Busy { .. }
                | SignInError::MailBacklog { .. }
                | SignInError::Failure(_) => {}
            }
        }
        let sessions = [
            SessionError::AccessTokenInvalid,
            SessionError::AccessTokenExpired,
            SessionError::SessionEnded,
            SessionError::AccountInactive,
            SessionError::RefreshTokenMalformed,
            SessionError::RefreshTokenInactive,
            SessionError::RefreshTokenUnrecognised,
            SessionError::SessionLifetimeOver,
            SessionError::RefreshTokenReused,
            SessionError::SessionNotFound,
            SessionError::DeviceNotFound,
            SessionError::ServiceCredentialInvalid,
            SessionError::RateLimited { retry_after: wait },
            SessionError::Failure(Failure::from(otp_core::PortError::unavailable("down"))),
        ];
        for error in &sessions {
            match error {
                SessionError::AccessTokenInvalid
                | SessionError::AccessTokenExpired
                | SessionError::SessionEnded
                | SessionError::AccountInactive
                | SessionError::RefreshTokenMalformed
                | SessionError::RefreshTokenInactive
                | SessionError::RefreshTokenUnrecognised
                | SessionError::SessionLifetimeOver
                | SessionError::RefreshTokenReused
                | SessionError::SessionNotFound
                | SessionError::DeviceNotFound
                | SessionError::ServiceCredentialInvalid
                | SessionError::RateLimited { .. }
                | SessionError::Failure(_) => {}
            }
        }
        let oauth = [
            OAuthSignInError::UnknownProvider,
            OAuthSignInError::ProviderNotConfigured("github".into()),
            OAuthSignInError::RedirectUriNotAllowed,
            OAuthSignInError::StateInvalid,
            OAuthSignInError::StateExpired,
            OAuthSignInError::StateProviderMismatch,
            OAuthSignInError::RedirectUriMismatch,
            OAuthSignInError::ClientBindingMissing,
            OAuthSignInError::ClientBindingMismatch,
            OAuthSignInError::AuthorizationCode(ValidationError::new("code", "must not be empty")),
            OAuthSignInError::Provider(OAuthError::CodeRejected),
            OAuthSignInError::Provider(OAuthError::InvalidIdToken("bad signature".into())),
            OAuthSignInError::Provider(OAuthError::IdTokenAudience),
            OAuthSignInError::Provider(OAuthError::IdTokenNonce),
            OAuthSignInError::Provider(OAuthError::EmailNotVerified),
            OAuthSignInError::Provider(OAuthError::unavailable("down")),
            OAuthSignInError::AccountExists,
            OAuthSignInError::AccountDisabled,
            OAuthSignInError::RateLimited { retry_after: wait },
            OAuthSignInError::Failure(Failure::internal("bug")),
        ];
        for error in &oauth {
            match error {
                OAuthSignInError::UnknownProvider
                | OAuthSignInError::ProviderNotConfigured(_)
                | OAuthSignInError::RedirectUriNotAllowed
                | OAuthSignInError::StateInvalid
                | OAuthSignInError::StateExpired
                | OAuthSignInError::StateProviderMismatch
                | OAuthSignInError::RedirectUriMismatch
                | OAuthSignInError::ClientBindingMissing
                | OAuthSignInError::ClientBindingMismatch
                | OAuthSignInError::AuthorizationCode(_)
                | OAuthSignInError::AccountExists
                | OAuthSignInError::AccountDisabled
                | OAuthSignInError::RateLimited { .. }
                | OAuthSignInError::Failure(_) => {}
                OAuthSignInError::Provider(refusal) => match refusal {
                    OAuthError::CodeRejected
                    | OAuthError::InvalidIdToken(_)
                    | OAuthError::IdTokenAudience
                    | OAuthError::IdTokenNonce
                    | OAuthError::EmailNotVerified
                    | OAuthError::Unavailable(_) => {}
                },
            }
        }
        let admin = [
            AdminError::NotAnAdministrator,
            AdminError::ActionRefused("own account"),
            AdminError::UserNotFound,
            AdminError::Validation(ValidationError::new("limit", "must be at least 1")),
            AdminError::Failure(Failure::internal("bug")),
        ];
        for error in &admin {
            match error {
                AdminError::NotAnAdministrator
                | AdminError::ActionRefused(_)
                | AdminError::UserNotFound
                | AdminError::Validation(_)
                | AdminError::Failure(_) => {}
            }
        }
        let account = [
            AccountError::ConfirmationRequired("which"),
            AccountError::InvalidCredentials,
            AccountError::CodeInvalid { attempts_remaining: None },
            AccountError::CodeExpired,
            AccountError::CodeAttemptsExceeded,
            AccountError::Cooldown { retry_after: wait },
            AccountError::SameEmail,
            AccountError::EmailTaken,
            AccountError::UndoInvalid,
            AccountError::IdentityNotFound,
            AccountError::LastSignInMethod,
            AccountError::RateLimited { retry_after: wait },
            AccountError::Busy { retry_after: wait },
            AccountError::Failure(Failure::internal("bug")),
        ];
        for error in &account {
            match error {
                AccountError::ConfirmationRequired(_)
                | AccountError::InvalidCredentials
                | AccountError::PasswordTooWeak(_)
                | AccountError::CodeInvalid { .. }
                | AccountError::CodeExpired
                | AccountError::CodeAttemptsExceeded
                | AccountError::Cooldown { .. }
                | AccountError::SameEmail
                | AccountError::EmailTaken
                | AccountError::UndoInvalid
                | AccountError::IdentityNotFound
                | AccountError::LastSignInMethod
                | AccountError::RateLimited { .. }
                | AccountError::Busy { .. }
                | AccountError::Failure(_) => {}
            }
        }
        let mut all: Vec<ApiError> = Vec::new();
        all.extend(account.into_iter().map(ApiError::from));
        all.extend(sign_in.into_iter().map(ApiError::from));
        all.extend(sessions.into_iter().map(ApiError::from));
        all.extend(oauth.into_iter().map(ApiError::from));
        all.extend(admin.into_iter().map(ApiError::from));
        all
    }

    #[test]
    fn every_declared_code_is_answered_and_every_answer_is_declared() {
        let mut answered: Vec<ProblemCode> = every_service_error().iter().map(ApiError::code).collect();
        // Answered by the edge itself: extractors, routing and the JSON body reader.
        answered.extend([
            ProblemCode::PayloadTooLarge,
            ProblemCode::UnsupportedMediaType,
            ProblemCode::MethodNotAllowed,
            ProblemCode::ValidationFailed,
            ProblemCode::NotFound,
        ]);
        for code in ProblemCode::ALL {
            assert!(answered.contains(code), "{} is declared but never answered", code.as_str());
        }
        for error in every_service_error() {
            assert_eq!(error.status(), error.code().status(), "{error}");
        }
    }
}
