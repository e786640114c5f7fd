//! Passwordless sign-in: send a code, resend it, verify it.

use actix_web::{HttpResponse, post, web};

use super::types::{CodeRequest, CodeSent, VerifyRequest};
use super::{code_sent, parse_code};
use crate::http::extract::Client;
use crate::http::problem::ApiError;
use crate::http::problem::responses::problem_responses;
use crate::http::secret::Secret;
use crate::http::sessions::types::{TokenResponse, signed_in_response};
use crate::http::state::AppState;

problem_responses!(SendCodeProblems = json_body + [OtpCooldown, RateLimited, MailBacklog, Unavailable]);
problem_responses!(
    VerifyCodeProblems = json_body
        + [OtpInvalid, OtpExpired, OtpAttemptsExceeded, AccountDisabled, OtpLocked, RateLimited, Unavailable]
);

/// Emails a sign-in code. The answer is the same whether or not the address has an
/// account; a new code replaces the address's earlier sign-in code.
#[utoipa::path(
    tag = "passwordless",
    request_body = CodeRequest,
    responses(
        (status = 202, description = "A code was issued (mailed if the address can receive mail).", body = CodeSent),
        SendCodeProblems,
    )
)]
#[post("/send-otp")]
pub(crate) async fn send_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<CodeRequest>,
) -> Result<HttpResponse, ApiError> {
    state.sign_in.send_code(&body.email, &with_registration(client, &body.registration_token)).await?;
    Ok(code_sent(&state, &body.email))
}

/// Emails a new code, replacing the previous one (a registration code for an
/// unverified password account, else a sign-in code). Enter it at `verify-otp`.
#[utoipa::path(
    tag = "passwordless",
    request_body = CodeRequest,
    responses(
        (status = 202, description = "A new code was issued.", body = CodeSent),
        SendCodeProblems,
    )
)]
#[post("/resend-otp")]
pub(crate) async fn resend_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<CodeRequest>,
) -> Result<HttpResponse, ApiError> {
    state.sign_in.resend_code(&body.email, &with_registration(client, &body.registration_token)).await?;
    Ok(code_sent(&state, &body.email))
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
        VerifyCodeProblems,
    )
)]
#[post("/verify-otp")]
pub(crate) async fn verify_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&state, &body.code)?;
    let client = with_registration(client, &body.registration_token);
    let signed_in = state.sign_in.verify_code(&body.email, &code, &client).await?;
    Ok(signed_in_response(signed_in))
}

/// The client's context with the registration token it sent, if any.
fn with_registration(client: Client, token: &Option<Secret>) -> otp_core::ClientContext {
    client.0.with_registration_token(token.as_ref().map(Secret::expose))
}
