//! Sign-in with Google and GitHub: the routes of [`otp_core::OAuthSignIn`].

mod problems;
pub(crate) mod types;

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use self::types::{
    OAuthCallbackRequest, OAuthProvidersResponse, OAuthSignedIn, OAuthStartQuery, OAuthStartResponse,
};
use super::extract::Client;
use super::problem::ApiError;
use super::problem::responses::problem_responses;
use super::secret::Secret;
use super::sessions::types::{TokenResponse, private_ok};
use super::state::AppState;

problem_responses!(
    StartProblems = [
        OauthRedirectUriNotAllowed,
        NotFound,
        ValidationFailed,
        RateLimited,
        OauthProviderNotConfigured,
        Unavailable,
    ]
);
problem_responses!(
    CallbackProblems = json_body
        + [
            OauthStateInvalid,
            OauthStateExpired,
            OauthStateProviderMismatch,
            OauthRedirectUriMismatch,
            OauthClientBindingInvalid,
            OauthCodeRejected,
            OauthIdTokenInvalid,
            OauthIdTokenAudience,
            OauthIdTokenNonce,
            OauthEmailNotVerified,
            AccountDisabled,
            NotFound,
            AccountExists,
            RateLimited,
            OauthProviderUnavailable,
            OauthProviderNotConfigured,
            Unavailable,
        ]
);

/// Mounts the OAuth routes in an auth scope.
pub(super) fn mount(cfg: &mut ServiceConfig) {
    cfg.service(providers).service(start).service(callback);
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
    HttpResponse::Ok().json(OAuthProvidersResponse { providers: state.oauth.configured_providers() })
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
        StartProblems,
    )
)]
#[get("/oauth/{provider}/start")]
pub(crate) async fn start(
    state: web::Data<AppState>,
    client: Client,
    provider: web::Path<String>,
    query: web::Query<OAuthStartQuery>,
) -> Result<HttpResponse, ApiError> {
    let started = state.oauth.start(&provider, query.redirect_uri.as_deref(), &client.0).await?;
    Ok(private_ok().json(OAuthStartResponse {
        provider: started.provider,
        auth_url: started.auth_url,
        state: started.state,
        client_binding: started.client_binding,
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
        CallbackProblems,
    )
)]
#[post("/oauth/{provider}/callback")]
pub(crate) async fn callback(
    state: web::Data<AppState>,
    client: Client,
    provider: web::Path<String>,
    body: web::Json<OAuthCallbackRequest>,
) -> Result<HttpResponse, ApiError> {
    let signed_in = state
        .oauth
        .callback(
            &provider,
            body.code.expose(),
            body.state.expose(),
            body.redirect_uri.as_deref(),
            body.client_binding.as_ref().map(Secret::expose),
            &client.0,
        )
        .await?;
    Ok(private_ok()
        .json(OAuthSignedIn { tokens: TokenResponse::from(signed_in), provider: provider.into_inner() }))
}
