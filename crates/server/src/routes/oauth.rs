//! Sign-in with Google and GitHub: the configured providers, start, and callback.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use otp_oauth::PROVIDERS;

use super::private_ok;
use crate::dto::{
    OAuthCallbackRequest, OAuthProvidersResponse, OAuthSignedIn, OAuthStartQuery, OAuthStartResponse,
    TokenResponse,
};
use crate::extract::Client;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A provider name this build knows; any other is 404 whether or not it is configured.
fn known(provider: &str) -> Result<&'static str, ApiError> {
    PROVIDERS
        .into_iter()
        .find(|known| *known == provider)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such sign-in provider"))
}

/// The providers one can sign in with on this server (those whose client id, secret
/// and redirect URI are set), in a stable order.
#[utoipa::path(
    tag = "oauth",
    responses(
        (status = 200, description = "The configured providers; empty when none is.", body = OAuthProvidersResponse,
            example = json!({"providers": ["google", "github"]})),
    )
)]
#[get("/oauth/providers")]
pub(crate) async fn providers(state: web::Data<AppState>) -> HttpResponse {
    let configured = state.service.oauth_provider_names();
    let providers = PROVIDERS.into_iter().filter(|name| configured.iter().any(|c| c == name)).collect();
    HttpResponse::Ok().json(OAuthProvidersResponse { providers })
}

/// Starts a sign-in with a provider (authorization code with PKCE): send the browser to
/// `auth_url`; the provider sends it back to the redirect URI with `code` and `state`,
/// which go to `callback` within `OAUTH_STATE_TTL_SECONDS`.
#[utoipa::path(
    tag = "oauth",
    params(
        ("provider" = String, Path, description = "`google` or `github`", example = "google"),
        OAuthStartQuery,
    ),
    responses(
        (status = 200, description = "The sign-in is started. Sent with `Cache-Control: no-store`.", body = OAuthStartResponse),
        (status = 400, description = "`oauth_redirect_uri_not_allowed`: `redirect_uri` is neither the provider's redirect URI nor on `OAUTH_ALLOWED_REDIRECT_URIS`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such provider", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a bad query string", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`oauth_provider_not_configured`: the provider is known but not set up on this server; or `unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/oauth/{provider}/start")]
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

/// Finishes a sign-in with a provider: exchanges the code, checks the identity, and
/// signs in its account (linking it to the account with its verified address, or
/// creating one).
#[utoipa::path(
    tag = "oauth",
    params(("provider" = String, Path, description = "`google` or `github`; the one the sign-in was started with", example = "github")),
    request_body = OAuthCallbackRequest,
    responses(
        (status = 200, description = "Signed in: the token pair and the provider. Sent with `Cache-Control: no-store`.", body = OAuthSignedIn),
        (status = 400, description = "`oauth_state_invalid` (unknown or already used), `oauth_state_expired`, `oauth_state_provider_mismatch`, `oauth_redirect_uri_mismatch`, `oauth_code_rejected` (the provider refused the code or the PKCE verifier), `oauth_id_token_invalid`, `oauth_id_token_audience` or `oauth_id_token_nonce`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`oauth_email_not_verified`: the provider has no verified address; or `account_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such provider", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`account_exists`: an account with this address exists but its address was never verified; sign in by code first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 502, description = "`oauth_provider_unavailable`: the provider could not be reached or gave an unusable answer", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`oauth_provider_not_configured` or `unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oauth/{provider}/callback")]
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
