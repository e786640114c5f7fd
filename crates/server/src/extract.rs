//! Request extractors: the client's context and the authenticated caller.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use otp_core::{AuthError, ClientContext, Principal};

use crate::problem::ApiError;
use crate::state::AppState;

fn state(request: &HttpRequest) -> Result<Arc<AppState>, ApiError> {
    request.app_data::<web::Data<AppState>>().map(|data| data.clone().into_inner()).ok_or_else(|| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "application state missing")
    })
}

/// The caller's address (resolved through trusted proxies) and user agent.
#[derive(Debug)]
pub struct Client(pub ClientContext);

impl FromRequest for Client {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).map(|state| {
            let forwarded =
                request.headers().get_all("x-forwarded-for").filter_map(|value| value.to_str().ok());
            let peer = request.peer_addr().map(|addr| addr.ip());
            let ip = state.trusted_proxies.client_ip(peer, forwarded);
            let agent = request.headers().get(header::USER_AGENT).and_then(|value| value.to_str().ok());
            Self(ClientContext::new(ip, agent))
        }))
    }
}

/// The caller, proven by a Bearer access token of a live session.
#[derive(Debug)]
pub struct Authenticated(pub Principal);

fn bearer_token(request: &HttpRequest) -> Result<String, ApiError> {
    let missing = || ApiError::from(AuthError::TokenInvalid("a Bearer access token is required"));
    let value = request.headers().get(header::AUTHORIZATION).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim().to_owned())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = state(request).and_then(|state| Ok((state, bearer_token(request)?)));
        Box::pin(async move {
            let (state, token) = found?;
            let principal = state.service.authenticate(&token).await?;
            Ok(Self(principal))
        })
    }
}
