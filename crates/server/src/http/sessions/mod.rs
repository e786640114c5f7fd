//! Tokens and sessions: the routes of [`otp_core::SessionService`].

mod introspect;
mod problems;
mod tokens;
pub(crate) mod types;

use actix_web::{HttpResponse, delete, get, web};
use otp_core::SessionId;
use otp_core::domain::DeviceId;
use utoipa_actix_web::service_config::ServiceConfig;

use self::types::{DeviceView, SessionView, SessionsResponse, private_ok};
use super::extract::Authenticated;
use super::problem::ApiError;
use super::problem::responses::problem_responses;
use super::state::AppState;

problem_responses!(
    /// What a route that needs a Bearer access token can answer besides its own codes.
    BearerProblems = [TokenInvalid, Unavailable]
);
problem_responses!(EndSessionProblems = [TokenInvalid, NotFound, Unavailable]);

/// Mounts the token and session routes in an auth scope.
pub(super) fn mount(cfg: &mut ServiceConfig) {
    cfg.service(tokens::refresh)
        .service(tokens::logout)
        .service(tokens::me)
        .service(tokens::set_locale)
        .service(tokens::keys)
        .service(introspect::introspect)
        .service(list)
        .service(end)
        .service(forget_device);
}

/// The caller's active sessions and remembered devices, newest first.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent with `Cache-Control: no-store`.", body = SessionsResponse),
        BearerProblems,
    )
)]
#[get("/sessions")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let current = caller.0.session_id();
    let sessions = state.sessions.list(&caller.0).await?;
    let sessions = sessions.iter().map(|session| SessionView::new(session, current)).collect();
    let devices = state.sessions.devices(&caller.0).await?.iter().map(DeviceView::from).collect();
    Ok(private_ok().json(SessionsResponse { sessions, devices }))
}

/// Ends one of the caller's sessions (for example a lost device). Ending the current
/// session works like `logout`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The session id, from `GET sessions`")),
    responses(
        (status = 204, description = "The session ended."),
        EndSessionProblems,
    )
)]
// Only what can be a UUID, so `sessions/revoke-others` is never taken for an id.
#[delete("/sessions/{id:[0-9a-fA-F-]+}")]
pub(crate) async fn end(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.sessions.end(&caller.0, SessionId::from_uuid(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Forgets one of the caller's remembered devices (a lost or sold one): its device
/// token no longer gives it its own budgets or skips the code at `login`. Its sessions
/// are not ended; end them with `DELETE sessions/{id}`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The device id, from `GET sessions`")),
    responses(
        (status = 204, description = "The device is forgotten."),
        EndSessionProblems,
    )
)]
#[delete("/devices/{id}")]
pub(crate) async fn forget_device(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.sessions.forget_device(&caller.0, DeviceId::from_uuid(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
