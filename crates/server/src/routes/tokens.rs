use actix_web::{HttpResponse, get, post, route, web};

use crate::dto::{KeysResponse, Message, PublicKey, RefreshRequest, TokenResponse, UserView};
use crate::extract::{Authenticated, Client};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Exchanges a refresh token for a new token pair (rotation): the old refresh token
/// stops working, and presenting it again ends the whole session.
#[utoipa::path(
    tag = "tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair. Sent with `Cache-Control: no-store`.", body = TokenResponse),
        (status = 401, description = "`token_invalid`: malformed, unknown, expired, ended, or already used (which ends the session)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/refresh")]
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed_in = state.service.refresh(body.refresh_token.expose(), &client.0).await?;
    Ok(super::signed_in(signed_in))
}

/// Ends the caller's session: its access and refresh tokens stop working at once.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out.", body = Message, example = json!({"message": "Logged out."})),
        (status = 401, description = "`token_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/logout")]
pub(crate) async fn logout(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.service.logout(&caller.0).await?;
    Ok(HttpResponse::Ok().json(Message { message: "Logged out." }))
}

/// The caller's account.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent with `Cache-Control: no-store`.", body = UserView),
        (status = 401, description = "`token_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub(crate) async fn me(caller: Authenticated) -> HttpResponse {
    super::private_ok().json(UserView::from(&caller.0.user))
}

/// The public keys that verify access tokens, as PASERK, for services that check
/// tokens offline. Sent with `Cache-Control: public, max-age=300`.
#[utoipa::path(
    tag = "tokens",
    responses((status = 200, description = "The keys; also to `HEAD` (without a body).", body = KeysResponse))
)]
#[route("/keys", method = "GET", method = "HEAD")]
pub(crate) async fn keys(state: web::Data<AppState>) -> HttpResponse {
    let policy = state.service.policy();
    let keys = state
        .service
        .keyring()
        .verifying_keys()
        .enumerate()
        .map(|(index, key)| PublicKey {
            kid: key.kid().to_owned(),
            paserk: key.to_paserk(),
            version: "v4",
            purpose: "public",
            current: index == 0,
        })
        .collect();
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(KeysResponse {
        issuer: policy.token_issuer.clone(),
        audience: policy.token_audience.clone(),
        keys,
    })
}
