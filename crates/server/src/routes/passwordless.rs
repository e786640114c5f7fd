use actix_web::{HttpResponse, post, web};
use otp_core::OtpCode;

use crate::dto::{CodeSent, EmailRequest, Secret, TokenResponse, VerifyRequest};
use crate::extract::Client;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub(crate) const CODE_SENT: &str = "If the address can receive mail, a code has been sent to it.";

pub(crate) fn code_sent(state: &AppState) -> HttpResponse {
    let expires_in = state.service.policy().code_ttl.as_secs();
    HttpResponse::Accepted().json(CodeSent { message: CODE_SENT, expires_in })
}

pub(crate) fn parse_code(state: &AppState, raw: &Secret) -> Result<OtpCode, ApiError> {
    let length = state.service.policy().code_length;
    OtpCode::parse(raw.expose(), length).map_err(|error| ApiError::validation(error.to_string()))
}

/// Emails a sign-in code. The answer is the same whether or not the address has an
/// account; a new code replaces the address's earlier sign-in code.
#[utoipa::path(
    tag = "passwordless",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "A code was issued (mailed if the address can receive mail).", body = CodeSent),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`otp_cooldown` (a code went to this address within `OTP_RESEND_COOLDOWN_SECONDS`; it still works) or `rate_limited`",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`: the mail or a store cannot be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/send-otp")]
pub(crate) async fn send_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.service.send_code(&body.email, &client.0).await?;
    Ok(code_sent(&state))
}

/// Emails a new code, replacing the previous one (a registration code for an
/// unverified password account, else a sign-in code). Enter it at `verify-otp`.
#[utoipa::path(
    tag = "passwordless",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "A new code was issued.", body = CodeSent),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`otp_cooldown` or `rate_limited`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/resend-otp")]
pub(crate) async fn resend_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.service.resend_code(&body.email, &client.0).await?;
    Ok(code_sent(&state))
}

/// Checks a code and opens a session: creates the account on a first passwordless
/// sign-in, verifies a pending registration, or completes a password log-in that
/// answered `otp_required`. A code works once; each wrong try spends one of
/// `OTP_MAX_ATTEMPTS`.
#[utoipa::path(
    tag = "passwordless",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "Signed in. Sent with `Cache-Control: no-store`.", body = TokenResponse),
        (status = 400, description = "`otp_invalid`, `otp_expired` or `otp_attempts_exceeded`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/verify-otp")]
pub(crate) async fn verify_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&state, &body.code)?;
    let signed_in = state.service.verify_code(&body.email, &code, &client.0).await?;
    Ok(super::signed_in(signed_in))
}
