//! actix-web 4: the [`VerifiedUser`] extractor and the [`VerifyTokens`] middleware.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, get, web};
//! use otp_verify::Verifier;
//! use otp_verify::actix::{VerifiedUser, VerifyTokens};
//!
//! #[get("/me")]
//! async fn me(user: VerifiedUser) -> String {
//!     format!("hello {}", user.subject)
//! }
//!
//! # async fn run(verifier: Verifier) -> std::io::Result<()> {
//! HttpServer::new(move || {
//!     App::new()
//!         // For handlers that take `VerifiedUser`:
//!         .app_data(verifier.clone())
//!         .service(me)
//!         // Or a whole scope that only verified callers reach:
//!         .service(web::scope("/api").wrap(VerifyTokens::new(verifier.clone())))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use crate::claims::Claims;
use crate::rejection::Rejection;
pub use crate::verified_user::VerifiedUser;
use crate::verifier::Verifier;

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

fn verifier(request: &HttpRequest) -> Option<Verifier> {
    request
        .app_data::<Verifier>()
        .cloned()
        .or_else(|| request.app_data::<web::Data<Verifier>>().map(|data| data.get_ref().clone()))
}

fn authorization(request: &HttpRequest) -> Option<Vec<u8>> {
    request.headers().get(header::AUTHORIZATION).map(|value| value.as_bytes().to_vec())
}

async fn verify(verifier: Option<Verifier>, authorization: Option<Vec<u8>>) -> Result<Claims, Rejection> {
    let verifier = verifier.ok_or(Rejection::NotConfigured)?;
    Ok(verifier.verify_authorization(authorization.as_deref()).await?)
}

/// Takes the claims the [`VerifyTokens`] middleware verified, or verifies the token
/// itself with the [`Verifier`] given as app data (`App::app_data(verifier)` or
/// `web::Data<Verifier>`). A request without a valid token is answered as
/// [`Rejection`] says.
impl FromRequest for VerifiedUser {
    type Error = Rejection;
    type Future = LocalBoxFuture<Result<Self, Rejection>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(claims) = request.extensions().get::<Claims>().cloned() {
            return Box::pin(ready(Ok(Self(claims))));
        }
        let (verifier, authorization) = (verifier(request), authorization(request));
        Box::pin(async move { verify(verifier, authorization).await.map(Self) })
    }
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let answer = self.answer();
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        response.content_type(crate::rejection::PROBLEM_JSON);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(challenge) = answer.www_authenticate {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if let Some(seconds) = answer.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.body(answer.body)
    }
}

/// Middleware that admits only requests with a valid Bearer access token, before the
/// handler or the body is touched; handlers behind it take [`VerifiedUser`] without
/// verifying again.
#[derive(Debug, Clone)]
pub struct VerifyTokens {
    verifier: Verifier,
}

impl VerifyTokens {
    /// Checks tokens with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S, B> Transform<S, ServiceRequest> for VerifyTokens
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = VerifyTokensMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(VerifyTokensMiddleware { service: Rc::new(service), verifier: self.verifier.clone() }))
    }
}

/// The service [`VerifyTokens`] wraps around a scope or route.
#[derive(Debug)]
pub struct VerifyTokensMiddleware<S> {
    service: Rc<S>,
    verifier: Verifier,
}

impl<S, B> Service<ServiceRequest> for VerifyTokensMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let authorization = authorization(request.request());
            match verify(Some(verifier), authorization).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    Ok(service.call(request).await?.map_into_left_body())
                }
                Err(rejection) => Ok(request.into_response(rejection.error_response()).map_into_right_body()),
            }
        })
    }
}
