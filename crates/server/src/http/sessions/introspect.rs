//! Token introspection (RFC 7662) for back-end services holding a service credential.

use actix_web::{FromRequest, HttpRequest, HttpResponse, post, web};
use otp_core::Introspection;

use super::types::{IntrospectRequest, IntrospectionResponse, private_ok};
use crate::http::extract::bearer_value;
use crate::http::problem::responses::problem_responses;
use crate::http::problem::{ApiError, ProblemCode};
use crate::http::state::AppState;

problem_responses!(
    IntrospectProblems = [ValidationFailed, ServiceCredentialInvalid, RateLimited, Unavailable]
);

/// The credential from `Authorization: Bearer <credential>`.
fn service_credential(request: &HttpRequest) -> Result<String, ApiError> {
    bearer_value(request).ok_or_else(|| {
        ApiError::new(ProblemCode::ServiceCredentialInvalid, "a Bearer service credential is required")
    })
}

/// Token introspection (RFC 7662), for back-end services: is this access token live
/// right now? Authenticated with a service credential from `INTROSPECTION_TOKENS`
/// (`Authorization: Bearer …`), checked before the body is read; rate-limited per
/// credential. The body is a form: `token=…&token_type_hint=access_token` (the hint is
/// optional). A live token (valid signature, not expired, its session not ended, its
/// account enabled) is answered with `active: true` and its claims; anything else with
/// exactly `{"active": false}`.
#[utoipa::path(
    tag = "tokens",
    security(("service_credential" = [])),
    request_body(content = IntrospectRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The token's state. Sent with `Cache-Control: no-store`.", body = IntrospectionResponse),
        IntrospectProblems,
    )
)]
#[post("/introspect")]
pub(crate) async fn introspect(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = state.sessions.authorize_service(&service_credential(&request)?).await?;
    let mut payload = payload.into_inner();
    let form = web::Form::<IntrospectRequest>::from_request(&request, &mut payload)
        .await
        .map_err(|error| ApiError::validation(format!("the body must be a form with a token: {error}")))?;
    let answer = match state.sessions.introspect(&caller, &form.token).await? {
        Introspection::Active(claims) => {
            let tokens = state.sessions.access_tokens();
            IntrospectionResponse::active(claims, tokens.issuer(), tokens.audience())
        }
        Introspection::Inactive => IntrospectionResponse::inactive(),
    };
    Ok(private_ok().json(answer))
}
