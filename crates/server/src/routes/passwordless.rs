use actix_web::{HttpResponse, web};
use otp_core::OtpCode;

use crate::dto::{CodeSent, EmailRequest, Secret, VerifyRequest};
use crate::extract::Client;
use crate::problem::ApiError;
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

/// `POST /auth/send-otp {email}`: 202, the same for every address.
pub(crate) async fn send_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.service.send_code(&body.email, &client.0).await?;
    Ok(code_sent(&state))
}

/// `POST /auth/resend-otp {email}`: 202, the same for every address.
pub(crate) async fn resend_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.service.resend_code(&body.email, &client.0).await?;
    Ok(code_sent(&state))
}

/// `POST /auth/verify-otp {email, code | otp}`: 200 with tokens.
pub(crate) async fn verify_otp(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&state, &body.code)?;
    let signed_in = state.service.verify_code(&body.email, &code, &client.0).await?;
    Ok(super::signed_in(signed_in))
}
