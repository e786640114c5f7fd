//! Request and response bodies of the OAuth routes.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::secret::Secret;
use crate::http::sessions::types::TokenResponse;

/// `GET /auth/oauth/{provider}/start` query string.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OAuthStartQuery {
    /// Where the provider sends the browser back (with `code` and `state`). It must be
    /// the provider's configured redirect URI or on `OAUTH_ALLOWED_REDIRECT_URIS`,
    /// compared exactly. Default: the provider's configured redirect URI.
    #[param(example = "http://127.0.0.1:8080/oauth/callback")]
    pub redirect_uri: Option<String>,
}

/// What the provider sent back to the redirect URI.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuthCallbackRequest {
    /// The `code` query parameter the provider added to the redirect URI.
    #[schema(value_type = String, format = Password)]
    pub code: Secret,
    /// The `state` query parameter: the one `start` answered; it works once.
    #[schema(value_type = String, format = Password)]
    pub state: Secret,
    /// The redirect URI the sign-in was started with; if given, it must be that one.
    #[serde(default)]
    #[schema(example = "http://127.0.0.1:8080/oauth/callback")]
    pub redirect_uri: Option<String>,
    /// The `client_binding` that `start` answered to this client (kept, for example, in
    /// `sessionStorage`); required.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    pub client_binding: Option<Secret>,
}

/// The providers one can sign in with here.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthProvidersResponse {
    /// The configured providers, in a stable order (`google`, then `github`).
    #[schema(example = json!(["google", "github"]))]
    pub providers: Vec<String>,
}

/// A started sign-in: send the browser to `auth_url`.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthStartResponse {
    /// The provider.
    #[schema(example = "google")]
    pub provider: String,
    /// The provider's authorization page, with client id, redirect URI, scopes, `state`
    /// and the PKCE challenge.
    pub auth_url: String,
    /// The sign-in's `state` (also in `auth_url`); the provider sends it back.
    pub state: String,
    /// A secret for this client alone (it is not in `auth_url`): keep it, and send it
    /// with the callback. A callback without it, or with another, is refused.
    pub client_binding: String,
}

/// The usual token response, plus the provider signed in with.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthSignedIn {
    /// The token pair and the account.
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The provider signed in with.
    #[schema(example = "github")]
    pub provider: String,
}
