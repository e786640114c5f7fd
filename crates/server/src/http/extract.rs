//! Request extractors: the client's context, the authenticated caller and the
//! administrator; and the middleware that admits only administrators to `/admin`.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use futures_util::future::LocalBoxFuture;
use otp_core::domain::Locale;
use otp_core::{Administrator, ClientContext, Principal};

use super::forwarded::{ResolvedClientIp, resolve_client_ip};
use super::problem::{ApiError, ProblemCode};
use super::state::AppState;

fn state(request: &HttpRequest) -> Result<Arc<AppState>, ApiError> {
    request
        .app_data::<web::Data<AppState>>()
        .map(|data| data.clone().into_inner())
        .ok_or_else(|| ApiError::new(ProblemCode::Internal, "application state missing"))
}

/// The header a client sends its device token in.
pub const DEVICE_TOKEN_HEADER: &str = "x-device-token";

/// The caller's address (resolved through trusted proxies), user agent and device
/// token (`X-Device-Token`).
#[derive(Debug)]
pub struct Client(pub ClientContext);

impl FromRequest for Client {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).map(|state| Self(client_context(request, &state))))
    }
}

fn client_context(request: &HttpRequest, state: &AppState) -> ClientContext {
    // Resolved once by the forwarded-headers middleware; resolved here only when the
    // routes are mounted in an app without it.
    let resolved = request.extensions().get::<ResolvedClientIp>().copied();
    let ip = resolved.map_or_else(
        || {
            let peer = request.peer_addr().map(|addr| addr.ip());
            resolve_client_ip(request.headers(), peer, &state.trusted_proxies)
        },
        |resolved| resolved.0,
    );
    let agent = request.headers().get(header::USER_AGENT).and_then(|value| value.to_str().ok());
    let device = request.headers().get(DEVICE_TOKEN_HEADER).and_then(|value| value.to_str().ok());
    ClientContext::new(ip, agent).with_device_token(device).with_locale(requested_locale(request, state))
}

/// The language a body names (`locale` at registration or `PUT me/locale`): `None`
/// for none, else one the mail's message files serve.
///
/// # Errors
/// `validation_failed` for a tag that is malformed or has no texts.
pub(crate) fn chosen_locale(state: &AppState, locale: Option<&str>) -> Result<Option<Locale>, ApiError> {
    let Some(text) = locale.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(None) };
    let languages = state.mail.as_ref().map(|renderer| renderer.languages()).unwrap_or_default();
    let refused = || {
        ApiError::new(
            ProblemCode::ValidationFailed,
            format!("locale must be one of {}", languages.join(", ")),
        )
    };
    let locale = Locale::parse(text).map_err(|_| refused())?;
    let renderer = state.mail.as_ref().ok_or_else(refused)?;
    renderer.serves(locale.as_str()).ok_or_else(refused)?;
    Ok(Some(locale))
}

/// The language the request asks for: the first of its `Accept-Language` that the
/// mail's message files serve (`de` for `de-AT`), if any.
pub(crate) fn requested_locale(request: &HttpRequest, state: &AppState) -> Option<Locale> {
    let renderer = state.mail.as_ref()?;
    let header = request.headers().get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    renderer.negotiate(&Locale::from_accept_language(header))
}

/// The caller, proven by a Bearer access token of a live session.
#[derive(Debug)]
pub struct Authenticated(pub Principal);

/// The value of `Authorization: Bearer <value>`, if the request has one.
pub(crate) fn bearer_value(request: &HttpRequest) -> Option<String> {
    let text = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, value) = text.split_once(' ')?;
    let value = value.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !value.is_empty()).then(|| value.to_owned())
}

fn bearer_token(request: &HttpRequest) -> Result<String, ApiError> {
    bearer_value(request)
        .ok_or_else(|| ApiError::new(ProblemCode::TokenInvalid, "a Bearer access token is required"))
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = state(request).and_then(|state| Ok((state, bearer_token(request)?)));
        Box::pin(async move {
            let (state, token) = found?;
            let principal = state.sessions.authenticate(&token).await?;
            Ok(Self(principal))
        })
    }
}

/// The caller, proven by a Bearer access token of a live session to be an
/// administrator. [`require_admin`] checks it before anything else of the request is
/// read; where the routes are mounted without it, the extractor checks it itself.
#[derive(Debug)]
pub struct Admin(pub Administrator);

async fn authorize_admin(request: &HttpRequest) -> Result<Administrator, ApiError> {
    let state = state(request)?;
    let token = bearer_token(request)?;
    let principal = state.sessions.authenticate(&token).await?;
    Ok(state.admin.authorize(principal, &client_context(request, &state))?)
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = request.extensions().get::<Administrator>().cloned();
        let request = request.clone();
        Box::pin(async move {
            match checked {
                Some(admin) => Ok(Self(admin)),
                None => authorize_admin(&request).await.map(Self),
            }
        })
    }
}

/// Middleware for the `/admin` scope: answers 401 without a valid access token and 403
/// for a caller who is not an administrator, before the path, query or body is read,
/// so every route (and every unknown path) under the scope answers alike to
/// non-administrators. Install with `actix_web::middleware::from_fn`.
pub async fn require_admin(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match authorize_admin(request.request()).await {
        Ok(admin) => {
            request.extensions_mut().insert(admin);
            Ok(next.call(request).await?.map_into_left_body())
        }
        Err(error) => Ok(request.into_response(error.error_response()).map_into_right_body()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, SocketAddr};

    use super::*;
    use crate::http::testing::memory_state;
    use actix_web::test::TestRequest;

    fn state(trusted: &str) -> web::Data<AppState> {
        web::Data::new(memory_state(trusted, None).0)
    }

    fn client_ip(request: &HttpRequest) -> Option<IpAddr> {
        Client::extract(request).into_inner().unwrap().0.ip
    }

    #[test]
    fn without_the_middleware_the_extractor_resolves_through_trusted_proxies() {
        let proxy: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let request = TestRequest::default()
            .app_data(state("10.0.0.1"))
            .peer_addr(proxy)
            .insert_header(("x-forwarded-for", "198.51.100.7"))
            .to_http_request();
        assert_eq!(client_ip(&request), Some("198.51.100.7".parse().unwrap()));
        let untrusted = TestRequest::default()
            .app_data(state(""))
            .peer_addr(proxy)
            .insert_header(("x-forwarded-for", "198.51.100.7"))
            .to_http_request();
        assert_eq!(client_ip(&untrusted), Some("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_middlewares_answer_is_used_as_it_stands() {
        let request = TestRequest::default()
            .app_data(state(""))
            .peer_addr("10.0.0.1:4000".parse().unwrap())
            .to_http_request();
        request.extensions_mut().insert(ResolvedClientIp(Some("203.0.113.9".parse().unwrap())));
        assert_eq!(client_ip(&request), Some("203.0.113.9".parse().unwrap()));
    }
}
