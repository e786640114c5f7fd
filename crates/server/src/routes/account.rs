use actix_web::{HttpResponse, web};
use otp_core::{LoginOutcome, Password};

use super::passwordless::{code_sent, parse_code};
use crate::dto::{CodeRequired, CredentialsRequest, EmailRequest, Message, ResetRequest, Secret};
use crate::extract::Client;
use crate::problem::ApiError;
use crate::state::AppState;

fn new_password(raw: &Secret) -> Result<Password, ApiError> {
    Password::new(raw.expose().to_owned()).map_err(|error| ApiError::validation(error.to_string()))
}

/// `POST /auth/register {email, password}`: 202, the same for every address.
pub(crate) async fn register(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = new_password(&body.password)?;
    state.service.register(&body.email, password, &client.0).await?;
    Ok(code_sent(&state))
}

/// `POST /auth/login {email, password}`: 200 with tokens, or 202 `{otp_required}`.
pub(crate) async fn login(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = Password::presented(body.password.expose().to_owned());
    match state.service.login(&body.email, password, &client.0).await? {
        LoginOutcome::SignedIn(signed_in) => Ok(super::signed_in(*signed_in)),
        LoginOutcome::CodeRequired { expires_in, resend_after } => {
            Ok(HttpResponse::Accepted().json(CodeRequired {
                otp_required: true,
                message: "Enter the code sent to your email address to finish logging in.",
                expires_in: expires_in.as_secs(),
                resend_after: resend_after.map(|wait| wait.as_secs_f64().ceil() as u64),
            }))
        }
    }
}

/// `POST /auth/password/forgot {email}`: 202, the same for every address.
pub(crate) async fn forgot_password(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.service.forgot_password(&body.email, &client.0).await?;
    Ok(code_sent(&state))
}

/// `POST /auth/password/reset {email, code, new_password}`: 200; every session ends.
pub(crate) async fn reset_password(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&state, &body.code)?;
    let password = new_password(&body.new_password)?;
    state.service.reset_password(&body.email, &code, password, &client.0).await?;
    Ok(HttpResponse::Ok().json(Message { message: "Password updated. Every session has been signed out." }))
}
