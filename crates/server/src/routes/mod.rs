//! Route table. The auth routes answer under `/auth` and, for clients of the Python
//! services, under `/api/auth`; the admin API under `/admin` only.
//!
//! To add a route: write the handler with `#[utoipa::path(...)]` (tag, body, every
//! response with its problem codes) above its actix-web method macro, and mount it here
//! with `.service(handler)`. It is then in the OpenAPI document under every prefix it is
//! mounted at. `.route(...)` and `web::resource(...)` would mount it undocumented, and
//! the route-coverage test would fail.

mod account;
mod admin;
mod docs;
mod health;
mod oauth;
mod page;
mod passwordless;
mod sessions;
mod tokens;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use otp_core::SignedIn;
use utoipa_actix_web::service_config::ServiceConfig;

pub use docs::DOCS_CSP;
pub use page::PAGE_CSP;

use crate::dto::TokenResponse;
use crate::extract::require_admin;

/// The path prefixes the auth routes are mounted at; the first is the canonical one.
pub const AUTH_PREFIXES: [&str; 2] = ["/auth", "/api/auth"];

/// A 200 that no cache may keep (it carries tokens or account data).
fn private_ok() -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header(("Cache-Control", "no-store"));
    response
}

/// The answer of every flow that signs in: 200 with the token pair.
fn signed_in(signed_in: SignedIn) -> HttpResponse {
    private_ok().json(TokenResponse::from(signed_in))
}

/// Mounts every route in an actix-web app or scope (for embedding). Requests no route
/// takes should go to [`crate::problem::no_route`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(&mut ServiceConfig::new(cfg));
}

/// Mounts every route and adds each to the OpenAPI document being collected.
pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(page::index)
        .service(page::oauth_callback)
        .service(page::asset)
        .service(docs::openapi_json)
        .service(docs::docs_redirect)
        .service(docs::swagger_ui)
        .service(health::health)
        .service(health::ready)
        .service(health::metrics);
    for prefix in AUTH_PREFIXES {
        cfg.service(utoipa_actix_web::scope(prefix).configure(auth_routes));
    }
    cfg.service(utoipa_actix_web::scope("/admin").wrap(from_fn(require_admin)).configure(admin_routes));
}

fn auth_routes(cfg: &mut ServiceConfig) {
    cfg.service(passwordless::send_otp)
        .service(passwordless::resend_otp)
        .service(passwordless::verify_otp)
        .service(account::register)
        .service(account::login)
        .service(account::forgot_password)
        .service(account::reset_password)
        .service(tokens::refresh)
        .service(tokens::logout)
        .service(tokens::me)
        .service(tokens::keys)
        .service(sessions::list)
        .service(sessions::end)
        .service(oauth::providers)
        .service(oauth::start)
        .service(oauth::callback);
}

fn admin_routes(cfg: &mut ServiceConfig) {
    cfg.service(admin::list_users)
        .service(admin::show_user)
        .service(admin::delete_user)
        .service(admin::disable_user)
        .service(admin::enable_user)
        .service(admin::revoke_sessions)
        .service(admin::set_role)
        .service(admin::audit_log);
}
