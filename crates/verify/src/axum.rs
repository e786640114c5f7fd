//! axum 0.8: the [`VerifiedUser`] extractor and the [`VerifyTokensLayer`] tower layer.
//!
//! ```no_run
//! use axum::{Extension, Router, routing::get};
//! use otp_verify::Verifier;
//! use otp_verify::axum::{VerifiedUser, VerifyTokensLayer};
//!
//! async fn me(user: VerifiedUser) -> String {
//!     format!("hello {}", user.subject)
//! }
//!
//! async fn greeting(user: Option<VerifiedUser>) -> String {
//!     user.map_or("hello stranger".into(), |user| format!("hello {}", user.subject))
//! }
//!
//! # fn routes(verifier: Verifier) -> Router {
//! Router::new()
//!     // Every route above the layer requires a valid token:
//!     .route("/me", get(me))
//!     .layer(VerifyTokensLayer::new(verifier.clone()))
//!     // Routes below it verify when the handler asks, through the extension:
//!     .route("/greeting", get(greeting))
//!     .layer(Extension(verifier))
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::claims::Claims;
use crate::rejection::{PROBLEM_JSON, Rejection};
pub use crate::verified_user::VerifiedUser;
use crate::verifier::Verifier;

async fn verify(parts: &Parts) -> Result<Claims, Rejection> {
    if let Some(claims) = parts.extensions.get::<Claims>() {
        return Ok(claims.clone());
    }
    let verifier = parts.extensions.get::<Verifier>().cloned().ok_or(Rejection::NotConfigured)?;
    let authorization = parts.headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
    Ok(verifier.verify_authorization(authorization).await?)
}

/// Takes the claims [`VerifyTokensLayer`] verified, or verifies the token itself with
/// the [`Verifier`] installed as an extension (`.layer(Extension(verifier))`). A
/// request without a valid token is answered as [`Rejection`] says.
impl<S: Send + Sync> FromRequestParts<S> for VerifiedUser {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        verify(parts).await.map(Self)
    }
}

/// As `Option<VerifiedUser>`: `None` only when the request has no `Authorization`
/// header; a bad token is still refused.
impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedUser {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) && parts.extensions.get::<Claims>().is_none() {
            return Ok(None);
        }
        verify(parts).await.map(|claims| Some(Self(claims)))
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let answer = self.answer();
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, answer.body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = answer.www_authenticate {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(seconds) = answer.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A tower layer that admits only requests with a valid Bearer access token and puts
/// its [`Claims`] in the request's extensions (where [`VerifiedUser`] finds them).
#[derive(Debug, Clone)]
pub struct VerifyTokensLayer {
    verifier: Verifier,
}

impl VerifyTokensLayer {
    /// Checks tokens with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S> tower_layer::Layer<S> for VerifyTokensLayer {
    type Service = VerifyTokens<S>;

    fn layer(&self, inner: S) -> VerifyTokens<S> {
        VerifyTokens { inner, verifier: self.verifier.clone() }
    }
}

/// The service [`VerifyTokensLayer`] wraps around routes.
#[derive(Debug, Clone)]
pub struct VerifyTokens<S> {
    inner: S,
    verifier: Verifier,
}

impl<S, B> tower_service::Service<Request<B>> for VerifyTokens<S>
where
    S: tower_service::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request; a fresh clone stays.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let authorization = request.headers().get(AUTHORIZATION).map(|value| value.as_bytes().to_vec());
            match verifier.verify_authorization(authorization.as_deref()).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(error) => Ok(Rejection::from(error).into_response()),
            }
        })
    }
}
