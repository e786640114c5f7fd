//! Route table. The auth routes answer under `/auth` and, for clients of the Python
//! services, under `/api/auth`; the admin API under `/admin` only.
//!
//! To add a route: write the handler with `#[utoipa::path(...)]` (tag, body, its
//! success responses and a `problem_responses!` set naming the codes it can answer)
//! above its actix-web method macro, and mount it in its capability's `mount` with
//! `.service(handler)`. It is then in the OpenAPI document under every prefix it is
//! mounted at. `.route(...)` and `web::resource(...)` would mount it undocumented, and
//! the route-coverage test would fail.

use actix_web::middleware::from_fn;
use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::require_admin;
use super::{account, admin, docs, oauth, operations, page, sessions, sign_in};

/// The path prefixes the auth routes are mounted at; the first is the canonical one.
pub const AUTH_PREFIXES: [&str; 2] = ["/auth", "/api/auth"];

/// Mounts every route in an actix-web app or scope (for embedding). Requests no route
/// takes should go to [`crate::http::fallback::no_route`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    mount(&mut ServiceConfig::new(cfg));
}

/// Mounts every route and adds each to the OpenAPI document being collected.
pub fn mount(cfg: &mut ServiceConfig) {
    cfg.service(page::index)
        .service(page::oauth_callback)
        .service(page::asset)
        .service(docs::openapi_json)
        .service(docs::docs_redirect)
        .service(docs::swagger_ui)
        .service(operations::health)
        .service(operations::ready);
    for prefix in AUTH_PREFIXES {
        cfg.service(utoipa_actix_web::scope(prefix).configure(auth_routes));
    }
    cfg.service(utoipa_actix_web::scope("/admin").wrap(from_fn(require_admin)).configure(admin::mount));
}

fn auth_routes(cfg: &mut ServiceConfig) {
    sign_in::mount(cfg);
    // Before the sessions: `sessions/revoke-others` must be resolved before
    // `sessions/{id}` takes it.
    account::mount(cfg);
    sessions::mount(cfg);
    oauth::mount(cfg);
}
