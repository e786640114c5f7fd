//! Account self-service: the routes of [`otp_core::AccountService`]. Every route but
//! `email/undo` needs a Bearer access token; the changes that could take an account
//! over also need the current password or a fresh code (see `docs/account.md`).

mod problems;
pub(crate) mod types;

use actix_web::{HttpResponse, delete, get, post, web};
use otp_core::crypto::rfc3339;
use otp_core::domain::AccountAction;
use otp_core::service::Proof;
use otp_core::{OtpCode, Password};
use utoipa_actix_web::service_config::ServiceConfig;

use self::types::{
    AccountActionName, AccountCodeRequest, AccountCodeSent, AccountExportView, ChangeEmailRequest,
    ChangePasswordRequest, ConfirmEmailRequest, Confirmation, EmailChanged, IdentitiesResponse, IdentityView,
    OthersRevoked, PasswordChanged, UndoEmailRequest,
};
use super::admin::types::AuditEntryView;
use super::extract::{Authenticated, Client};
use super::message::Message;
use super::problem::responses::problem_responses;
use super::problem::{ApiError, ProblemCode};
use super::secret::Secret;
use super::sessions::types::{DeviceView, SessionView, UserView, private_ok};
use super::state::AppState;

problem_responses!(CodeProblems = json_body + [TokenInvalid, OtpCooldown, RateLimited, Unavailable]);
problem_responses!(
    ChangePasswordProblems = json_body
        + [
            TokenInvalid,
            ConfirmationRequired,
            InvalidCredentials,
            PasswordTooWeak,
            OtpInvalid,
            OtpExpired,
            OtpAttemptsExceeded,
            RateLimited,
            Unavailable
        ]
);
problem_responses!(
    ChangeEmailProblems = json_body
        + [
            TokenInvalid,
            ConfirmationRequired,
            InvalidCredentials,
            OtpInvalid,
            OtpExpired,
            OtpAttemptsExceeded,
            OtpCooldown,
            RateLimited,
            Unavailable
        ]
);
problem_responses!(
    ConfirmEmailProblems = json_body
        + [
            TokenInvalid,
            OtpInvalid,
            OtpExpired,
            OtpAttemptsExceeded,
            EmailUnavailable,
            RateLimited,
            Unavailable
        ]
);
problem_responses!(UndoProblems = json_body + [UndoInvalid, EmailUnavailable, RateLimited, Unavailable]);
problem_responses!(
    DeleteProblems = json_body
        + [
            TokenInvalid,
            ConfirmationRequired,
            InvalidCredentials,
            OtpInvalid,
            OtpExpired,
            OtpAttemptsExceeded,
            RateLimited,
            Unavailable
        ]
);
problem_responses!(BearerProblems = [TokenInvalid, Unavailable]);
problem_responses!(UnlinkProblems = [TokenInvalid, NotFound, LastSignInMethod, Unavailable]);

/// Mounts the account routes in an auth scope.
pub(super) fn mount(cfg: &mut ServiceConfig) {
    cfg.service(request_code)
        .service(change_password)
        .service(change_email)
        .service(confirm_email)
        .service(undo_email)
        .service(delete_account)
        .service(revoke_others)
        .service(identities)
        .service(unlink)
        .service(export);
}

fn code(state: &AppState, raw: &Secret) -> Result<OtpCode, ApiError> {
    OtpCode::parse(raw.expose(), state.account.code_length()).map_err(ApiError::from)
}

/// Exactly one of a password and a code.
fn proof(state: &AppState, password: Option<&Secret>, code_text: Option<&Secret>) -> Result<Proof, ApiError> {
    match (password, code_text) {
        (Some(password), None) => Ok(Proof::Password(Password::presented(password.expose().to_owned()))),
        (None, Some(raw)) => Ok(Proof::Code(code(state, raw)?)),
        (Some(_), Some(_)) => Err(ApiError::validation("send either the password or a code, not both")),
        (None, None) => Err(ApiError::new(
            ProblemCode::ConfirmationRequired,
            "confirm with the current password, or with a code from POST me/code",
        )),
    }
}

/// Mails a code to the caller's address that confirms one change: a password change
/// (for an account without a password), an address change or the deletion.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = AccountCodeRequest,
    responses(
        (status = 202, description = "A code was mailed to the account's address.", body = AccountCodeSent),
        CodeProblems,
    )
)]
#[post("/me/code")]
pub(crate) async fn request_code(
    state: web::Data<AppState>,
    caller: Authenticated,
    client: Client,
    body: web::Json<AccountCodeRequest>,
) -> Result<HttpResponse, ApiError> {
    let action = match body.action {
        AccountActionName::ChangePassword => AccountAction::ChangePassword,
        AccountActionName::ChangeEmail => AccountAction::ChangeEmail,
        AccountActionName::DeleteAccount => AccountAction::DeleteAccount,
    };
    state.account.request_code(&caller.0, action, &client.0).await?;
    Ok(HttpResponse::Accepted().json(AccountCodeSent {
        message: "A code has been sent to the account's address.",
        expires_in: state.account.code_lifetime().as_secs(),
    }))
}

/// Sets a new password, confirmed with `current_password` (or, for an account without
/// a password, a `change_password` code), ends every other session, and mails a notice.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Password changed; every other session was ended.", body = PasswordChanged),
        ChangePasswordProblems,
    )
)]
#[post("/password/change")]
pub(crate) async fn change_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    client: Client,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let new_password = Password::new(body.new_password.expose().to_owned()).map_err(ApiError::from)?;
    let proof = proof(&state, body.current_password.as_ref(), body.code.as_ref())?;
    let ended = state.account.change_password(&caller.0, new_password, proof, &client.0).await?;
    Ok(HttpResponse::Ok().json(PasswordChanged {
        message: "Password changed. Every other session has been signed out.",
        sessions_ended: ended,
    }))
}

/// Starts moving the account to `new_email`, confirmed with the password or a
/// `change_email` code: a code is mailed to the new address (confirm it at
/// `email/change/confirm`). The answer is the same whether or not the new address
/// already has an account (its owner is mailed a notice instead of a code).
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses(
        (status = 202, description = "A code was issued for the new address.", body = AccountCodeSent),
        ChangeEmailProblems,
    )
)]
#[post("/email/change")]
pub(crate) async fn change_email(
    state: web::Data<AppState>,
    caller: Authenticated,
    client: Client,
    body: web::Json<ChangeEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let proof = proof(&state, body.password.as_ref(), body.code.as_ref())?;
    state.account.change_email(&caller.0, &body.new_email, proof, &client.0).await?;
    Ok(HttpResponse::Accepted().json(AccountCodeSent {
        message: "If the new address can receive mail, a code has been sent to it.",
        expires_in: state.account.code_lifetime().as_secs(),
    }))
}

/// Moves the account to the new address with the code mailed there. The old address
/// is mailed a notice with the new one masked and a link that undoes the change within
/// 72 hours.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = ConfirmEmailRequest,
    responses(
        (status = 200, description = "The account is at its new address.", body = EmailChanged),
        ConfirmEmailProblems,
    )
)]
#[post("/email/change/confirm")]
pub(crate) async fn confirm_email(
    state: web::Data<AppState>,
    caller: Authenticated,
    client: Client,
    body: web::Json<ConfirmEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = code(&state, &body.code)?;
    let user = state.account.confirm_email_change(&caller.0, &body.new_email, &code, &client.0).await?;
    Ok(private_ok().json(EmailChanged { message: "Address changed.", user: UserView::from(&user) }))
}

/// Undoes an address change with the token of the link mailed to the old address:
/// the account moves back to it and every session ends. Needs no access token.
#[utoipa::path(
    tag = "account",
    request_body = UndoEmailRequest,
    responses(
        (status = 200, description = "The account is back at its old address; every session was ended.", body = Message),
        UndoProblems,
    )
)]
#[post("/email/undo")]
pub(crate) async fn undo_email(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<UndoEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    state.account.undo_email_change(body.token.expose(), &client.0).await?;
    Ok(HttpResponse::Ok().json(Message {
        message: "The address change was undone and every session signed out. Sign in with a code to continue.",
    }))
}

/// Deletes the caller's account, confirmed with a `delete_account` code or the
/// password: its sessions end at once, its identities and devices are removed, and
/// the address can register again. The audit log keeps its entries with a keyed
/// pseudonym instead of the address.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = Confirmation,
    responses(
        (status = 204, description = "The account is deleted."),
        DeleteProblems,
    )
)]
#[delete("/me")]
pub(crate) async fn delete_account(
    state: web::Data<AppState>,
    caller: Authenticated,
    client: Client,
    body: web::Json<Confirmation>,
) -> Result<HttpResponse, ApiError> {
    let proof = proof(&state, body.password.as_ref(), body.code.as_ref())?;
    state.account.delete(&caller.0, proof, &client.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of the caller's account except the one making the request.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The other sessions are ended.", body = OthersRevoked),
        BearerProblems,
    )
)]
#[post("/sessions/revoke-others")]
pub(crate) async fn revoke_others(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ended = state.account.revoke_other_sessions(&caller.0).await?;
    Ok(HttpResponse::Ok().json(OthersRevoked { sessions_ended: ended }))
}

/// The provider identities linked to the caller's account.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent with `Cache-Control: no-store`.", body = IdentitiesResponse),
        BearerProblems,
    )
)]
#[get("/identities")]
pub(crate) async fn identities(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let linked = state.account.identities(&caller.0).await?;
    Ok(private_ok().json(IdentitiesResponse { identities: linked.iter().map(IdentityView::from).collect() }))
}

/// Unlinks the caller's identities at a provider, unless that would leave the account
/// without a way to sign in it has used (a password, another provider, or a code
/// sign-in passed before).
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "The provider, as `GET identities` lists it")),
    responses(
        (status = 204, description = "Unlinked."),
        UnlinkProblems,
    )
)]
#[delete("/identities/{provider}")]
pub(crate) async fn unlink(
    state: web::Data<AppState>,
    caller: Authenticated,
    provider: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.account.unlink(&caller.0, &provider).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A JSON document of everything held about the caller: the account, its sessions,
/// linked identities, remembered devices and the audit entries naming it.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent with `Cache-Control: no-store` and as an attachment.", body = AccountExportView),
        BearerProblems,
    )
)]
#[get("/me/export")]
pub(crate) async fn export(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let export = state.account.export(&caller.0).await?;
    let current = caller.0.session_id();
    let user = &export.user;
    let view = AccountExportView {
        exported_at: rfc3339(time::OffsetDateTime::now_utc()),
        account: UserView::from(user),
        role: user.role.as_str(),
        disabled: user.disabled,
        last_code_verified_at: user.last_code_verified_at.map(rfc3339),
        sessions: export.sessions.iter().map(|session| SessionView::new(session, current)).collect(),
        identities: export.identities.iter().map(IdentityView::from).collect(),
        devices: export.devices.iter().map(DeviceView::from).collect(),
        audit_entries: export.audit_entries.iter().map(AuditEntryView::from).collect(),
    };
    Ok(private_ok()
        .insert_header(("Content-Disposition", "attachment; filename=\"account-export.json\""))
        .json(view))
}
