use actix_web::{HttpResponse, delete, get, web};
use otp_core::SessionId;

use crate::dto::{SessionView, SessionsResponse};
use crate::extract::Authenticated;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The caller's active sessions, newest first.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent with `Cache-Control: no-store`.", body = SessionsResponse),
        (status = 401, description = "`token_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/sessions")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let current = caller.0.session_id();
    let sessions = state.service.list_sessions(&caller.0).await?;
    let sessions = sessions.iter().map(|session| SessionView::new(session, current)).collect();
    Ok(super::private_ok().json(SessionsResponse { sessions }))
}

/// Ends one of the caller's sessions (for example a lost device). Ending the current
/// session works like `logout`.
#[utoipa::path(
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The session id, from `GET sessions`")),
    responses(
        (status = 204, description = "The session ended."),
        (status = 401, description = "`token_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: not an active session of the caller's (or not a UUID)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/sessions/{id}")]
pub(crate) async fn end(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.service.end_session(&caller.0, SessionId::from_uuid(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
