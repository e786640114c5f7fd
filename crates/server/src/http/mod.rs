//! The HTTP room: routes per capability with their request and response types, the
//! problem mapping, extractors, the OpenAPI document and the web page. It speaks to the
//! domain through `otp-core`'s services only; [`crate::bootstrap`] builds those and
//! serves this.

pub mod account;
pub mod admin;
pub mod client_ip;
pub mod docs;
pub mod extract;
pub mod fallback;
pub mod forwarded;
mod message;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod operations;
pub mod page;
pub mod problem;
mod request_span;
pub mod routes;
mod secret;
pub mod sessions;
pub mod sign_in;
pub mod state;
#[cfg(test)]
mod testing;

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use request_span::RequestSpan;
pub use routes::{AUTH_PREFIXES, configure, mount};
pub use state::AppState;

/// The Content-Security-Policy of every answer that sets none of its own (JSON and
/// problem documents): nothing may be loaded, and nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

/// Everything an app serving the API needs besides its middleware: the state, the
/// extractors' error answers, every route, and the problem answer for the rest.
pub fn app(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(state)
            .app_data(web::JsonConfig::default().limit(MAX_JSON_BYTES).error_handler(problem::json_error))
            .app_data(web::PathConfig::default().error_handler(problem::path_error))
            .app_data(web::QueryConfig::default().error_handler(problem::query_error))
            .configure(configure)
            .default_service(web::to(fallback::no_route));
    }
}

/// `Strict-Transport-Security` when the service is reached over https: a year, this
/// host and its subdomains (ASVS 3.4.1).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The headers every answer carries (pages and `/docs` set their own policy), with
/// [`HSTS`] when `hsts` is set.
pub fn security_headers(hsts: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CONTENT_SECURITY_POLICY, API_CSP));
    if hsts { headers.add((header::STRICT_TRANSPORT_SECURITY, HSTS)) } else { headers }
}

/// Browsers may call the API from the listed origins; requests from the server's own
/// origin (a page served by this server) are always allowed.
pub fn cors(origins: Vec<String>) -> Cors {
    Cors::default()
        .allowed_origin_fn(move |origin, request| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            let same_host = request
                .headers()
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
                .is_some_and(|host| origin.split_once("://").is_some_and(|(_, rest)| rest == host));
            same_host || origins.iter().any(|allowed| allowed == origin)
        })
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static(extract::DEVICE_TOKEN_HEADER),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(3600)
}
