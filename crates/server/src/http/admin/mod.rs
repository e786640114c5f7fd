//! The admin API under `/admin`: accounts and the audit log, the routes of
//! [`otp_core::AdminService`]. The scope's middleware (`extract::require_admin`) has
//! already answered 401 or 403 to anyone who is not an administrator.

mod problems;
pub(crate) mod types;

use actix_web::{HttpResponse, delete, get, post, put, web};
use otp_core::ValidationError;
use otp_core::domain::{AuditEntryId, User, UserId};
use otp_core::service::admin::UserSearch;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use self::types::{
    AdminUserView, AuditEntryView, AuditLogResponse, AuditPageQuery, RoleRequest, SessionsRevoked,
    UserPageQuery, UsersResponse,
};
use super::extract::Admin;
use super::problem::ApiError;
use super::problem::responses::problem_responses;
use super::sessions::types::private_ok;
use super::state::AppState;

problem_responses!(PageProblems = [TokenInvalid, Forbidden, ValidationFailed, Unavailable]);
problem_responses!(AccountProblems = [TokenInvalid, Forbidden, NotFound, Unavailable]);
problem_responses!(GuardedProblems = [TokenInvalid, Forbidden, NotFound, ActionRefused, Unavailable]);
problem_responses!(
    RoleProblems = json_body + [TokenInvalid, Forbidden, NotFound, ActionRefused, Unavailable]
);

/// Mounts the admin routes in the `/admin` scope.
pub(super) fn mount(cfg: &mut ServiceConfig) {
    cfg.service(list_users)
        .service(show_user)
        .service(delete_user)
        .service(disable_user)
        .service(enable_user)
        .service(revoke_sessions)
        .service(set_role)
        .service(audit_log);
}

/// A `next_cursor` given back: the id of the last item of the previous page.
fn cursor(raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match raw {
        None => Ok(None),
        Some(text) => Uuid::try_parse(text)
            .map(Some)
            .map_err(|_| ApiError::from(ValidationError::new("cursor", "is not a cursor this API gave"))),
    }
}

fn user_id(id: web::Path<Uuid>) -> UserId {
    UserId::from_uuid(id.into_inner())
}

fn view(state: &AppState, user: &User) -> AdminUserView {
    AdminUserView::new(user, state.admin.effective_role(user))
}

/// `GET /admin/users?q=&limit=&cursor=`: accounts, newest first; `q` keeps those whose
/// address contains it.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(UserPageQuery),
    responses(
        (status = 200, description = "A page of accounts, newest first. Sent with `Cache-Control: no-store`.", body = UsersResponse),
        PageProblems,
    )
)]
#[get("/users")]
pub(crate) async fn list_users(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<UserPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let search = UserSearch {
        email_contains: query.q,
        after: cursor(query.cursor.as_deref())?.map(UserId::from_uuid),
        limit: query.limit,
    };
    let page = state.admin.list_users(&admin.0, search).await?;
    Ok(private_ok().json(UsersResponse {
        users: page.users.iter().map(|user| view(&state, user)).collect(),
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

/// `GET /admin/users/{id}`: one account.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account.", body = AdminUserView),
        AccountProblems,
    )
)]
#[get("/users/{id}")]
pub(crate) async fn show_user(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state.admin.find_user(&admin.0, user_id(id)).await?;
    Ok(private_ok().json(view(&state, &user)))
}

/// `POST /admin/users/{id}/disable`: 200 with the account; its sessions end.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account, disabled; its sessions have ended.", body = AdminUserView),
        GuardedProblems,
    )
)]
#[post("/users/{id}/disable")]
pub(crate) async fn disable_user(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state.admin.disable_user(&admin.0, user_id(id)).await?;
    Ok(private_ok().json(view(&state, &user)))
}

/// `POST /admin/users/{id}/enable`: 200 with the account.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account, enabled.", body = AdminUserView),
        AccountProblems,
    )
)]
#[post("/users/{id}/enable")]
pub(crate) async fn enable_user(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state.admin.enable_user(&admin.0, user_id(id)).await?;
    Ok(private_ok().json(view(&state, &user)))
}

/// `DELETE /admin/users/{id}`: 204; the account, its sessions and identities are gone.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 204, description = "Deleted, with its sessions and linked identities."),
        GuardedProblems,
    )
)]
#[delete("/users/{id}")]
pub(crate) async fn delete_user(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.admin.delete_user(&admin.0, user_id(id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/users/{id}/sessions/revoke`: 200 with how many sessions ended.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id")),
    responses(
        (status = 200, description = "How many sessions ended.", body = SessionsRevoked),
        AccountProblems,
    )
)]
#[post("/users/{id}/sessions/revoke")]
pub(crate) async fn revoke_sessions(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let sessions_ended = state.admin.revoke_user_sessions(&admin.0, user_id(id)).await?;
    Ok(private_ok().json(SessionsRevoked { sessions_ended }))
}

/// `PUT /admin/users/{id}/role {role}`: 200 with the account.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The account's id")),
    request_body = RoleRequest,
    responses(
        (status = 200, description = "The account with its new role.", body = AdminUserView),
        RoleProblems,
    )
)]
#[put("/users/{id}/role")]
pub(crate) async fn set_role(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<Uuid>,
    body: web::Json<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = state.admin.set_user_role(&admin.0, user_id(id), body.role.into()).await?;
    Ok(private_ok().json(view(&state, &user)))
}

/// `GET /admin/audit-log?limit=&cursor=`: entries, newest first.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(AuditPageQuery),
    responses(
        (status = 200, description = "A page of audit entries, newest first.", body = AuditLogResponse),
        PageProblems,
    )
)]
#[get("/audit-log")]
pub(crate) async fn audit_log(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<AuditPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let after = cursor(query.cursor.as_deref())?.map(AuditEntryId::from_uuid);
    let page = state.admin.audit_log(&admin.0, after, query.limit).await?;
    Ok(private_ok().json(AuditLogResponse {
        entries: page.entries.iter().map(AuditEntryView::from).collect(),
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}
