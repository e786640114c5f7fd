use actix_web::{HttpResponse, web};

use crate::dto::{KeysResponse, Message, PublicKey, RefreshRequest, UserView};
use crate::extract::{Authenticated, Client};
use crate::problem::ApiError;
use crate::state::AppState;

/// `POST /auth/refresh {refresh_token}`: 200 with a new token pair.
pub(crate) async fn refresh(
    state: web::Data<AppState>,
    client: Client,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed_in = state.service.refresh(body.refresh_token.expose(), &client.0).await?;
    Ok(super::signed_in(signed_in))
}

/// `POST /auth/logout` (Bearer): 200; the session's tokens stop working.
pub(crate) async fn logout(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.service.logout(&caller.0).await?;
    Ok(HttpResponse::Ok().json(Message { message: "Logged out." }))
}

/// `GET /auth/me` (Bearer): the caller's account.
pub(crate) async fn me(caller: Authenticated) -> HttpResponse {
    super::private_ok().json(UserView::from(&caller.0.user))
}

/// `GET /auth/keys`: the public keys that verify access tokens, as PASERK.
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
