//! Every error as RFC 9457 problem details with a stable machine `code`.
//!
//! | code | status |
//! |---|---|
//! | `validation_failed` | 422 (400 for a body that is not JSON) |
//! | `payload_too_large` | 413 |
//! | `unsupported_media_type` | 415 |
//! | `invalid_credentials`, `token_invalid` | 401 |
//! | `email_not_verified`, `account_disabled` | 403 |
//! | `not_found` | 404 |
//! | `method_not_allowed` | 405 |
//! | `otp_invalid`, `otp_expired`, `otp_attempts_exceeded` | 400 |
//! | `otp_cooldown`, `rate_limited` | 429 with `Retry-After` |
//! | `oauth_redirect_uri_not_allowed`, `oauth_redirect_uri_mismatch`, `oauth_state_invalid`, `oauth_state_expired`, `oauth_state_provider_mismatch`, `oauth_code_rejected`, `oauth_id_token_invalid`, `oauth_id_token_audience`, `oauth_id_token_nonce` | 400 |
//! | `oauth_email_not_verified` | 403 |
//! | `account_exists` | 409 |
//! | `oauth_provider_unavailable` | 502 (the cause is logged) |
//! | `oauth_provider_not_configured` | 503 |
//! | `unavailable` | 503 |
//! | `internal` | 500, generic detail (the cause is logged) |

use std::fmt;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use otp_core::AuthError;
use otp_core::ports::OAuthError;
use serde::Serialize;

/// The body of every error response.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the type.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// What happened, for programs.
    pub code: &'static str,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with an explicit status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), retry_after: None }
    }

    /// A `validation_failed` error (422).
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail)
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.detail)
    }
}

fn title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let problem = Problem {
            kind: format!("urn:otp-auth:problem:{}", self.code),
            title: title(self.status),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
        };
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        if self.status == StatusCode::UNAUTHORIZED && self.code == "token_invalid" {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
        }
        response.json(problem)
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let status = match &error {
            AuthError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AuthError::InvalidCredentials | AuthError::TokenInvalid(_) => StatusCode::UNAUTHORIZED,
            AuthError::EmailNotVerified | AuthError::AccountDisabled => StatusCode::FORBIDDEN,
            AuthError::OtpInvalid { .. } | AuthError::OtpExpired | AuthError::OtpAttemptsExceeded => {
                StatusCode::BAD_REQUEST
            }
            AuthError::OtpCooldown { .. } | AuthError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AuthError::NotFound(_) => StatusCode::NOT_FOUND,
            AuthError::OAuthRedirectUriNotAllowed
            | AuthError::OAuthRedirectUriMismatch
            | AuthError::OAuthStateInvalid
            | AuthError::OAuthStateExpired
            | AuthError::OAuthStateProviderMismatch => StatusCode::BAD_REQUEST,
            AuthError::OAuth(OAuthError::EmailNotVerified) => StatusCode::FORBIDDEN,
            AuthError::OAuth(OAuthError::Unavailable(_)) => StatusCode::BAD_GATEWAY,
            AuthError::OAuth(_) => StatusCode::BAD_REQUEST,
            AuthError::AccountExists => StatusCode::CONFLICT,
            AuthError::OAuthProviderNotConfigured(_) | AuthError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let detail = match &error {
            AuthError::Unavailable(cause) => {
                tracing::error!(error = %cause, source = ?std::error::Error::source(cause), "backing service unavailable");
                "a backing service is unavailable; try again shortly".to_owned()
            }
            AuthError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                "an unexpected error occurred".to_owned()
            }
            AuthError::OAuth(OAuthError::Unavailable(cause)) => {
                tracing::error!(error = %cause, "sign-in provider unavailable");
                "the sign-in provider could not be reached or gave an unusable answer; try again shortly"
                    .to_owned()
            }
            other => other.to_string(),
        };
        let retry_after = error.retry_after().map(|wait| wait.as_secs_f64().ceil() as u64);
        Self { status, code: error.code(), detail, retry_after }
    }
}

/// Maps JSON extraction failures: too large, wrong media type, not JSON, or not the
/// expected shape.
pub fn json_error(error: JsonPayloadError, _request: &HttpRequest) -> actix_web::Error {
    let api = match &error {
        JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request body is larger than {limit} bytes"),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "request body must be JSON (Content-Type: application/json)",
        ),
        JsonPayloadError::Deserialize(inner) if inner.is_syntax() || inner.is_eof() => ApiError::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!("request body is not valid JSON: {inner}"),
        ),
        JsonPayloadError::Deserialize(inner) => ApiError::validation(inner.to_string()),
        other => ApiError::new(StatusCode::BAD_REQUEST, "validation_failed", other.to_string()),
    };
    api.into()
}

/// Maps path-parameter failures (for example a session id that is not a UUID).
pub fn path_error(error: PathError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such resource: {error}")).into()
}

/// Maps query-string failures.
pub fn query_error(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::validation(format!("invalid query string: {error}")).into()
}

/// Answer for routes that do not exist.
pub async fn not_found() -> HttpResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").error_response()
}

/// Answer for a known path with the wrong method.
pub async fn method_not_allowed() -> HttpResponse {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route")
        .error_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn throttles_carry_a_whole_number_of_seconds() {
        let error = ApiError::from(AuthError::RateLimited { retry_after: Duration::from_millis(1500) });
        assert_eq!((error.status, error.retry_after), (StatusCode::TOO_MANY_REQUESTS, Some(2)));
    }

    #[test]
    fn provider_outages_are_bad_gateways_that_hide_their_cause() {
        let error = ApiError::from(AuthError::OAuth(OAuthError::unavailable("token endpoint said hunter2")));
        assert_eq!((error.status, error.code), (StatusCode::BAD_GATEWAY, "oauth_provider_unavailable"));
        assert!(!error.detail.contains("hunter2"));
        let exists = ApiError::from(AuthError::AccountExists);
        assert_eq!((exists.status, exists.code), (StatusCode::CONFLICT, "account_exists"));
        let unverified = ApiError::from(AuthError::OAuth(OAuthError::EmailNotVerified));
        assert_eq!(unverified.status, StatusCode::FORBIDDEN);
        let off = ApiError::from(AuthError::OAuthProviderNotConfigured("github".into()));
        assert_eq!(off.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(off.detail.contains("github"), "{}", off.detail);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let error = ApiError::from(AuthError::Internal("database password is hunter2".into()));
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.detail.contains("hunter2"));
    }
}
