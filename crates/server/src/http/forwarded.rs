//! Makes the forwarding headers say what the server believes.
//!
//! Before anything reads them (the request log included), `Forwarded`, `X-Real-IP` and
//! `X-Forwarded-For` are removed, and behind a trusted proxy `X-Forwarded-For` is
//! replaced by the one client address resolved through `TRUSTED_PROXIES` from the header
//! `TRUSTED_PROXY_HEADER` names (`X-Forwarded-For` or RFC 7239 `Forwarded`). A client
//! that is not a trusted proxy therefore cannot put an address of its choosing into
//! logs or rate-limit keys.

use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::client_ip::{ForwardingHeader, TrustedProxies};
use super::state::AppState;

const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// The client address the middleware resolved, kept in the request's extensions so
/// later readers need not resolve it again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResolvedClientIp(pub Option<IpAddr>);

/// The client address of a request from `peer` with these headers.
pub(crate) fn resolve_client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    proxies: &TrustedProxies,
) -> Option<IpAddr> {
    let name = match proxies.header() {
        ForwardingHeader::XForwardedFor => header::X_FORWARDED_FOR,
        ForwardingHeader::Forwarded => header::FORWARDED,
    };
    let values = headers.get_all(name).filter_map(|value| value.to_str().ok());
    proxies.client_ip(peer, values)
}

/// Middleware function; install with `actix_web::middleware::from_fn`.
pub async fn normalise_forwarded_headers(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let peer = request.peer_addr().map(|addr| addr.ip());
    let client = request
        .app_data::<web::Data<AppState>>()
        .and_then(|state| resolve_client_ip(request.headers(), peer, &state.trusted_proxies));
    request.extensions_mut().insert(ResolvedClientIp(client));
    let headers = request.headers_mut();
    headers.remove(header::FORWARDED);
    headers.remove(header::X_FORWARDED_FOR);
    headers.remove(X_REAL_IP);
    if let Some(client) = client.filter(|client| Some(*client) != peer)
        && let Ok(value) = HeaderValue::from_str(&client.to_string())
    {
        headers.insert(header::X_FORWARDED_FOR, value);
    }
    next.call(request).await
}
