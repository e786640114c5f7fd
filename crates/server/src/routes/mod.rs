//! Route table. The auth routes answer under `/auth` and, for clients of the Python
//! services, under `/api/auth`.

mod account;
mod health;
mod oauth;
mod passwordless;
mod sessions;
mod tokens;

use actix_web::{HttpResponse, HttpResponseBuilder, Resource, web};
use otp_core::SignedIn;

use crate::dto::TokenResponse;
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
        .service(resource("/sessions/{id}").route(web::delete().to(sessions::end)))
        .service(resource("/oauth/providers").route(web::get().to(oauth::providers)))
        .service(resource("/oauth/{provider}/start").route(web::get().to(oauth::start)))
        .service(resource("/oauth/{provider}/callback").route(web::post().to(oauth::callback)));
}
