//! Sign-in with Google and GitHub: the configured providers, start, and callback.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use otp_oauth::PROVIDERS;

use super::private_ok;
use crate::dto::{
    OAuthCallbackRequest, OAuthProvidersResponse, OAuthSignedIn, OAuthStartQuery, OAuthStartResponse,
    TokenResponse,
};
use crate::extract::Client;
use crate::problem::ApiError;
use crate::state::AppState;

/// A provider name this build knows; any other is 404 whether or not it is configured.
fn known(provider: &str) -> Result<&'static str, ApiError> {
    PROVIDERS
        .into_iter()
        .find(|known| *known == provider)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such sign-in provider"))
}

/// `GET /auth/oauth/providers`: the configured providers, in a stable order.
pub(crate) async fn providers(state: web::Data<AppState>) -> HttpResponse {
    let configured = state.service.oauth_provider_names();
    let providers = PROVIDERS.into_iter().filter(|name| configured.iter().any(|c| c == name)).collect();
    HttpResponse::Ok().json(OAuthProvidersResponse { providers })
}

/// `GET /auth/oauth/{provider}/start?redirect_uri=...`: 200 `{provider, auth_url, state}`.
pub(crate) async fn start(
    state: web::Data<AppState>,
    client: Client,
    provider: web::Path<String>,
    query: web::Query<OAuthStartQuery>,
) -> Result<HttpResponse, ApiError> {
    let provider = known(&provider)?;
    let started = state.service.oauth_start(provider, query.redirect_uri.as_deref(), &client.0).await?;
    Ok(private_ok().json(OAuthStartResponse {
        provider: started.provider,
        auth_url: started.auth_url,
        state: started.state,
    }))
}

/// `POST /auth/oauth/{provider}/callback {code, state, redirect_uri?}`: 200 with tokens
/// and `provider`.
pub(crate) async fn callback(
    state: web::Data<AppState>,
    client: Client,
    provider: web::Path<String>,
    body: web::Json<OAuthCallbackRequest>,
) -> Result<HttpResponse, ApiError> {
    let provider = known(&provider)?;
    let signed_in = state
        .service
        .oauth_callback(
            provider,
            body.code.expose(),
            body.state.expose(),
            body.redirect_uri.as_deref(),
            &client.0,
        )
        .await?;
    Ok(private_ok().json(OAuthSignedIn { tokens: TokenResponse::from(signed_in), provider }))
}
