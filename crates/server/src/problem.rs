//! Every error as RFC 9457 problem details with a stable machine `code`.
//!
//! | code | status |
//! |---|---|
//! | `validation_failed` | 422 (400 for a body that is not JSON) |
//! | `payload_too_large` | 413 |
//! | `unsupported_media_type` | 415 |
//! | `invalid_credentials`, `token_invalid` | 401 |
//! | `email_not_verified`, `account_disabled`, `forbidden` | 403 |
//! | `not_found` | 404 |
//! | `method_not_allowed` | 405 |
//! | `action_refused` | 409 |
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
use utoipa::ToSchema;

/// The media type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every error response (RFC 9457 problem details).
#[derive(Debug, Serialize, PartialEq, Eq, ToSchema)]
#[schema(example = json!({
    "type": "urn:otp-auth:problem:otp_invalid",
    "title": "Bad Request",
    "status": 400,
    "detail": "code is incorrect; 4 tries left",
    "code": "otp_invalid"
}))]
pub struct Problem {
    /// A URI naming the problem type: `urn:otp-auth:problem:` followed by `code`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the type (the status's reason phrase).
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// What happened, for programs: branch on this, not on `detail`.
    #[schema(value_type = ProblemCode)]
    pub code: &'static str,
}

#[cfg(test)]
impl ProblemCode {
    const ALL_FOR_TESTS: [Self; 31] = [
        Self::ValidationFailed,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::InvalidCredentials,
        Self::TokenInvalid,
        Self::EmailNotVerified,
        Self::AccountDisabled,
        Self::Forbidden,
        Self::ActionRefused,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::OtpInvalid,
        Self::OtpExpired,
        Self::OtpAttemptsExceeded,
        Self::OtpCooldown,
        Self::RateLimited,
        Self::OauthRedirectUriNotAllowed,
        Self::OauthRedirectUriMismatch,
        Self::OauthStateInvalid,
        Self::OauthStateExpired,
        Self::OauthStateProviderMismatch,
        Self::OauthCodeRejected,
        Self::OauthIdTokenInvalid,
        Self::OauthIdTokenAudience,
        Self::OauthIdTokenNonce,
        Self::OauthEmailNotVerified,
        Self::AccountExists,
        Self::OauthProviderUnavailable,
        Self::OauthProviderNotConfigured,
        Self::Unavailable,
        Self::Internal,
    ];
}

/// Every machine code a problem response can carry in its `code` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// 422 (400 for a body that is not JSON): a field, the body or the query is invalid.
    ValidationFailed,
    /// 413: the body is larger than 16 KiB.
    PayloadTooLarge,
    /// 415: the body is not sent as `application/json`.
    UnsupportedMediaType,
    /// 401: unknown address, wrong password, or an account without a password.
    InvalidCredentials,
    /// 401: the access or refresh token is missing, malformed, expired or revoked.
    TokenInvalid,
    /// 403: the password was right but the address is not verified.
    EmailNotVerified,
    /// 403: the account is disabled.
    AccountDisabled,
    /// 403: the caller is not an administrator.
    Forbidden,
    /// 409: an admin action on the caller's own account or on the `ADMIN_EMAIL` account.
    ActionRefused,
    /// 404: no such route or resource.
    NotFound,
    /// 405: the path exists, but not with this method.
    MethodNotAllowed,
    /// 400: the code is wrong, already used, or none was issued.
    OtpInvalid,
    /// 400: the code's lifetime has passed.
    OtpExpired,
    /// 400: too many wrong codes; the code is dead.
    OtpAttemptsExceeded,
    /// 429 with `Retry-After`: a code was sent to the address too recently.
    OtpCooldown,
    /// 429 with `Retry-After`: too many requests from this client or for this address.
    RateLimited,
    /// 400: the `redirect_uri` of a provider sign-in is not on the allow-list.
    OauthRedirectUriNotAllowed,
    /// 400: the callback's `redirect_uri` differs from the one the sign-in started with.
    OauthRedirectUriMismatch,
    /// 400: the sign-in `state` is unknown, malformed or already used.
    OauthStateInvalid,
    /// 400: the sign-in `state` has expired; start again.
    OauthStateExpired,
    /// 400: the sign-in `state` was issued for another provider.
    OauthStateProviderMismatch,
    /// 400: the provider refused the authorization code (wrong, used, expired, or a
    /// wrong PKCE verifier).
    OauthCodeRejected,
    /// 400: the provider's ID token is malformed, badly signed, expired or from another
    /// issuer.
    OauthIdTokenInvalid,
    /// 400: the provider's ID token was issued to another client.
    OauthIdTokenAudience,
    /// 400: the provider's ID token does not carry this sign-in's nonce.
    OauthIdTokenNonce,
    /// 403: the provider has no verified address for the person.
    OauthEmailNotVerified,
    /// 409: the provider's verified address belongs to an account whose address was never
    /// verified, so the identity is not linked to it.
    AccountExists,
    /// 502: the provider could not be reached or gave an unusable answer (the cause is
    /// logged).
    OauthProviderUnavailable,
    /// 503: sign-in with this provider is not configured on this server.
    OauthProviderNotConfigured,
    /// 503: PostgreSQL, Redis or the mailer cannot be reached.
    Unavailable,
    /// 500: an unexpected error; the cause is logged, never shown.
    Internal,
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
        response.content_type(PROBLEM_JSON);
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
            AuthError::EmailNotVerified | AuthError::AccountDisabled | AuthError::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            AuthError::ActionRefused(_) => StatusCode::CONFLICT,
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

/// Answer for requests no route takes: 405 `method_not_allowed` when a route has the
/// path but not the method, else 404 `not_found`.
pub async fn no_route(request: HttpRequest) -> HttpResponse {
    if request.resource_map().has_resource(request.path()) {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this route",
        )
        .error_response()
    } else {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").error_response()
    }
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

    /// The code of every `AuthError` variant; the match fails to compile when a variant
    /// is added, so its code cannot be left out of [`ProblemCode`].
    fn every_auth_error() -> Vec<AuthError> {
        let all = vec![
            AuthError::Validation(otp_core::EmailAddress::parse("not an address").unwrap_err()),
            AuthError::InvalidCredentials,
            AuthError::EmailNotVerified,
            AuthError::AccountDisabled,
            AuthError::OtpInvalid { attempts_remaining: None },
            AuthError::OtpExpired,
            AuthError::OtpAttemptsExceeded,
            AuthError::OtpCooldown { retry_after: Duration::from_secs(1) },
            AuthError::RateLimited { retry_after: Duration::from_secs(1) },
            AuthError::TokenInvalid("token"),
            AuthError::NotFound("session"),
            AuthError::Forbidden("not an administrator"),
            AuthError::ActionRefused("own account"),
            AuthError::OAuthProviderNotConfigured("github".into()),
            AuthError::OAuthRedirectUriNotAllowed,
            AuthError::OAuthStateInvalid,
            AuthError::OAuthStateExpired,
            AuthError::OAuthStateProviderMismatch,
            AuthError::OAuthRedirectUriMismatch,
            AuthError::OAuth(OAuthError::CodeRejected),
            AuthError::OAuth(OAuthError::InvalidIdToken("bad signature".into())),
            AuthError::OAuth(OAuthError::IdTokenAudience),
            AuthError::OAuth(OAuthError::IdTokenNonce),
            AuthError::OAuth(OAuthError::EmailNotVerified),
            AuthError::OAuth(OAuthError::unavailable("down")),
            AuthError::AccountExists,
            AuthError::Unavailable(otp_core::PortError::Unavailable("down".into())),
            AuthError::Internal("bug".into()),
        ];
        for error in &all {
            match error {
                AuthError::Validation(_)
                | AuthError::InvalidCredentials
                | AuthError::EmailNotVerified
                | AuthError::AccountDisabled
                | AuthError::OtpInvalid { .. }
                | AuthError::OtpExpired
                | AuthError::OtpAttemptsExceeded
                | AuthError::OtpCooldown { .. }
                | AuthError::RateLimited { .. }
                | AuthError::TokenInvalid(_)
                | AuthError::NotFound(_)
                | AuthError::Forbidden(_)
                | AuthError::ActionRefused(_)
                | AuthError::OAuthProviderNotConfigured(_)
                | AuthError::OAuthRedirectUriNotAllowed
                | AuthError::OAuthStateInvalid
                | AuthError::OAuthStateExpired
                | AuthError::OAuthStateProviderMismatch
                | AuthError::OAuthRedirectUriMismatch
                | AuthError::AccountExists
                | AuthError::Unavailable(_)
                | AuthError::Internal(_) => {}
                AuthError::OAuth(error) => match error {
                    OAuthError::CodeRejected
                    | OAuthError::InvalidIdToken(_)
                    | OAuthError::IdTokenAudience
                    | OAuthError::IdTokenNonce
                    | OAuthError::EmailNotVerified
                    | OAuthError::Unavailable(_) => {}
                },
            }
        }
        all
    }

    #[test]
    fn the_documented_codes_are_every_code_the_server_answers() {
        let documented: Vec<String> = serde_json::to_value(ProblemCode::ALL_FOR_TESTS)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        let mut answered: Vec<&str> = every_auth_error().iter().map(AuthError::code).collect();
        answered.extend(["payload_too_large", "unsupported_media_type", "method_not_allowed"]);
        for code in &answered {
            assert!(documented.iter().any(|known| known == code), "{code} is not in ProblemCode");
        }
        for code in &documented {
            assert!(answered.contains(&code.as_str()), "ProblemCode::{code} is never answered");
        }
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
