//! Accounts with a password: registration, log-in with its code re-check, and reset.

use actix_web::{HttpResponse, post, web};
use otp_core::{LoginOutcome, Password};

use super::types::{
    CodeRequired, CodeSent, CredentialsRequest, EmailRequest, RegistrationRequest, RegistrationStarted,
    ResetRequest,
};
use super::{CODE_SENT, code_sent, parse_code};
use crate::http::extract::{Client, chosen_locale};
use crate::http::message::Message;
use crate::http::problem::ApiError;
use crate::http::problem::responses::problem_responses;
use crate::http::secret::Secret;
use crate::http::sessions::types::{TokenResponse, signed_in_response};
use crate::http::state::AppState;

problem_responses!(
    RegisterProblems =
        json_body + [PasswordTooWeak, OtpCooldown, RateLimited, ServerBusy, MailBacklog, Unavailable]
);
problem_responses!(
    LoginProblems = json_body + [InvalidCredentials, AccountDisabled, RateLimited, ServerBusy, Unavailable]
);
problem_responses!(ForgotProblems = json_body + [OtpCooldown, RateLimited, MailBacklog, Unavailable]);
problem_responses!(
    ResetProblems = json_body
        + [
            PasswordTooWeak,
            OtpInvalid,
            OtpExpired,
            OtpAttemptsExceeded,
            RateLimited,
            ServerBusy,
            Unavailable
        ]
);

fn new_password(raw: &Secret) -> Result<Password, ApiError> {
    Password::new(raw.expose().to_owned()).map_err(ApiError::from)
}

/// Registers an address with a password and emails a code that verifies it (enter it
/// at `verify-otp` with the `registration_token` of this answer). The answer is the
/// same for every address: a verified account is left unchanged and its owner is
/// mailed a notice instead. The password becomes usable only when this client enters
/// the code; if anyone else signs in with a code for the address first, it is dropped.
#[utoipa::path(
    tag = "password",
    request_body = RegistrationRequest,
    responses(
        (status = 202, description = "A code was issued.", body = RegistrationStarted),
        RegisterProblems,
    )
)]
#[post("/register")]
pub(crate) async fn register(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<RegistrationRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = new_password(&body.password)?;
    let client = match chosen_locale(&state, body.locale.as_deref())? {
        Some(locale) => client.0.with_locale(Some(locale)),
        None => client.0,
    };
    let token = state.sign_in.register(&body.email, password, &client).await?;
    let expires_in = state.sign_in.code_lifetime().as_secs();
    Ok(HttpResponse::Accepted().json(RegistrationStarted {
        message: CODE_SENT,
        email: body.email.as_str().to_owned(),
        expires_in,
        expires_in_seconds: expires_in,
        registration_token: token.expose().to_owned(),
    }))
}

/// Checks a password. When the account's last code check is older than the
/// access-token lifetime (or it never had one), no session is opened: a code is
/// mailed and the answer is 202 `otp_required`; send the code to `verify-otp`.
#[utoipa::path(
    tag = "password",
    request_body = CredentialsRequest,
    responses(
        (status = 200, description = "Signed in. Sent with `Cache-Control: no-store`.", body = TokenResponse),
        (status = 202, description = "The password is right; enter the mailed code at `verify-otp` to finish.", body = CodeRequired),
        LoginProblems,
    )
)]
#[post("/login")]
pub(crate) async fn login(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<CredentialsRequest>,
) -> Result<HttpResponse, ApiError> {
    let password = Password::presented(body.password.expose().to_owned());
    match state.sign_in.login(&body.email, password, &client.0).await? {
        LoginOutcome::SignedIn(signed_in) => Ok(signed_in_response(*signed_in)),
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

/// Emails a password-reset code if the address has an account. The answer and the
/// cooldown are the same for every address.
#[utoipa::path(
    tag = "password",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "A reset code was issued.", body = CodeSent),
        ForgotProblems,
    )
)]
#[post("/password/forgot")]
pub(crate) async fn forgot_password(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.sign_in.forgot_password(&body.email, &client.0).await?;
    Ok(code_sent(&state, &body.email))
}

/// Sets a new password with a reset code, marks the address verified and ends every
/// session of the account.
#[utoipa::path(
    tag = "password",
    request_body = ResetRequest,
    responses(
        (status = 200, description = "Password updated; every session was signed out.", body = Message,
            example = json!({"message": "Password updated. Every session has been signed out."})),
        ResetProblems,
    )
)]
#[post("/password/reset")]
pub(crate) async fn reset_password(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&state, &body.code)?;
    let password = new_password(&body.new_password)?;
    state.sign_in.reset_password(&body.email, &code, password, &client.0).await?;
    Ok(HttpResponse::Ok().json(Message { message: "Password updated. Every session has been signed out." }))
}
