//! Sign-in by code and by password: the routes of [`otp_core::SignInService`].

mod password;
mod passwordless;
mod problems;
pub(crate) mod types;

use actix_web::HttpResponse;
use otp_core::{EmailAddress, OtpCode};
use utoipa_actix_web::service_config::ServiceConfig;

use self::types::CodeSent;
use super::problem::ApiError;
use super::secret::Secret;
use super::state::AppState;

/// What every code-sending route answers, whatever the address.
const CODE_SENT: &str = "If the address can receive mail, a code has been sent to it.";

/// Mounts the sign-in routes in an auth scope.
pub(super) fn mount(cfg: &mut ServiceConfig) {
    cfg.service(passwordless::send_otp)
        .service(passwordless::resend_otp)
        .service(passwordless::verify_otp)
        .service(password::register)
        .service(password::login)
        .service(password::forgot_password)
        .service(password::reset_password);
}

/// The same answer for every address: the address as normalised (it was given, so
/// echoing it reveals nothing) and the code lifetime under both names clients read.
fn code_sent(state: &AppState, email: &EmailAddress) -> HttpResponse {
    let expires_in = state.sign_in.code_lifetime().as_secs();
    HttpResponse::Accepted().json(CodeSent {
        message: CODE_SENT,
        email: email.as_str().to_owned(),
        expires_in,
        expires_in_seconds: expires_in,
    })
}

fn parse_code(state: &AppState, raw: &Secret) -> Result<OtpCode, ApiError> {
    OtpCode::parse(raw.expose(), state.sign_in.code_length()).map_err(ApiError::from)
}
