//! Route table. The auth routes answer under `/auth` and, for clients of the Python
//! services, under `/api/auth`; the admin API under `/admin` only.

mod account;
mod admin;
mod health;
mod passwordless;
mod sessions;
mod tokens;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, HttpResponseBuilder, Resource, web};
use otp_core::SignedIn;

use crate::dto::TokenResponse;
use crate::extract::require_admin;
use crate::problem::method_not_allowed;

/// The path prefixes the auth routes are mounted at.
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

fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/health").route(web::get().to(health::health)).route(web::head().to(health::health)),
    )
    .service(resource("/ready").route(web::get().to(health::ready)).route(web::head().to(health::ready)));
    for prefix in AUTH_PREFIXES {
        cfg.service(web::scope(prefix).configure(auth_routes));
    }
    cfg.service(web::scope("/admin").wrap(from_fn(require_admin)).configure(admin_routes));
}

fn auth_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/send-otp").route(web::post().to(passwordless::send_otp)))
        .service(resource("/resend-otp").route(web::post().to(passwordless::resend_otp)))
        .service(resource("/verify-otp").route(web::post().to(passwordless::verify_otp)))
        .service(resource("/register").route(web::post().to(account::register)))
        .service(resource("/login").route(web::post().to(account::login)))
        .service(resource("/password/forgot").route(web::post().to(account::forgot_password)))
        .service(resource("/password/reset").route(web::post().to(account::reset_password)))
        .service(resource("/refresh").route(web::post().to(tokens::refresh)))
        .service(resource("/logout").route(web::post().to(tokens::logout)))
        .service(resource("/me").route(web::get().to(tokens::me)))
        .service(resource("/keys").route(web::get().to(tokens::keys)).route(web::head().to(tokens::keys)))
        .service(resource("/sessions").route(web::get().to(sessions::list)))
        .service(resource("/sessions/{id}").route(web::delete().to(sessions::end)));
}

fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/users").route(web::get().to(admin::list_users)))
        .service(
            resource("/users/{id}")
                .route(web::get().to(admin::show_user))
                .route(web::delete().to(admin::delete_user)),
        )
        .service(resource("/users/{id}/disable").route(web::post().to(admin::disable_user)))
        .service(resource("/users/{id}/enable").route(web::post().to(admin::enable_user)))
        .service(resource("/users/{id}/sessions/revoke").route(web::post().to(admin::revoke_sessions)))
        .service(resource("/users/{id}/role").route(web::put().to(admin::set_role)))
        .service(resource("/audit-log").route(web::get().to(admin::audit_log)));
}
