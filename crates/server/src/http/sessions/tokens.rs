//! The token pair: refresh, logout, the caller's account, and the verifying keys.

use actix_web::{HttpResponse, get, post, put, route, web};

use super::BearerProblems;
use super::types::{
    KeysResponse, LocaleRequest, PublicKey, RefreshRequest, TokenResponse, UserView, private_ok,
    signed_in_response,
};
use crate::http::extract::{Authenticated, Client, chosen_locale};
use crate::http::message::Message;
use crate::http::problem::ApiError;
use crate::http::problem::responses::problem_responses;
use crate::http::state::AppState;

problem_responses!(RefreshProblems = json_body + [TokenInvalid, RateLimited, Unavailable]);
problem_responses!(LocaleProblems = json_body + [TokenInvalid, Unavailable]);

/// Exchanges a refresh token for a new token pair (rotation): the old refresh token
/// stops working, and presenting it again ends the whole session.
#[utoipa::path(
    tag = "tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair. Sent with `Cache-Control: no-store`.", body = TokenResponse),
        RefreshProblems,
    )
)]
#[post("/refresh")]
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed_in = state.sessions.refresh(body.refresh_token.expose(), &client.0).await?;
    Ok(signed_in_response(signed_in))
}

/// Ends the caller's session: its access and refresh tokens stop working at once.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Logged out.", body = Message, example = json!({"message": "Logged out."})),
        BearerProblems,
    )
)]
#[post("/logout")]
pub(crate) async fn logout(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.sessions.logout(&caller.0).await?;
    Ok(HttpResponse::Ok().json(Message { message: "Logged out." }))
}

/// The caller's account.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sent with `Cache-Control: no-store`.", body = UserView),
        BearerProblems,
    )
)]
#[get("/me")]
pub(crate) async fn me(caller: Authenticated) -> HttpResponse {
    private_ok().json(UserView::from(&caller.0.user))
}

/// Keeps the language the caller chose for mail and the page: it wins over each
/// request's `Accept-Language` from now on.
#[utoipa::path(
    tag = "tokens",
    security(("bearer" = [])),
    request_body = LocaleRequest,
    responses(
        (status = 200, description = "The updated account. Sent with `Cache-Control: no-store`.", body = UserView),
        LocaleProblems,
    )
)]
#[put("/me/locale")]
pub(crate) async fn set_locale(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<LocaleRequest>,
) -> Result<HttpResponse, ApiError> {
    let locale = chosen_locale(&state, body.locale.as_deref())?;
    let user = state.sessions.set_locale(&caller.0, locale).await?;
    Ok(private_ok().json(UserView::from(&user)))
}

/// The public keys that verify access tokens, as PASERK, for services that check
/// tokens offline. Sent with `Cache-Control: public, max-age=300`.
#[utoipa::path(
    tag = "tokens",
    responses((status = 200, description = "The keys; also to `HEAD` (without a body).", body = KeysResponse))
)]
#[route("/keys", method = "GET", method = "HEAD")]
pub(crate) async fn keys(state: web::Data<AppState>) -> HttpResponse {
    let tokens = state.sessions.access_tokens();
    let keys = tokens
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
        issuer: tokens.issuer().to_owned(),
        audience: tokens.audience().to_owned(),
        keys,
    })
}
