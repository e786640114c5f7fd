use actix_web::{HttpResponse, web};
use otp_core::SessionId;

use crate::dto::{SessionView, SessionsResponse};
use crate::extract::Authenticated;
use crate::problem::ApiError;
use crate::state::AppState;

/// `GET /auth/sessions` (Bearer): the caller's active sessions, newest first.
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let current = caller.0.session_id();
    let sessions = state.service.list_sessions(&caller.0).await?;
    let sessions = sessions.iter().map(|session| SessionView::new(session, current)).collect();
    Ok(super::private_ok().json(SessionsResponse { sessions }))
}

/// `DELETE /auth/sessions/{id}` (Bearer): 204; ends one of the caller's sessions.
pub(crate) async fn end(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.service.end_session(&caller.0, SessionId::from_uuid(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
