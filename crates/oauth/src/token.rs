//! The authorization-code grant through the `oauth2` crate: the authorization URL with
//! PKCE, and the code exchange with its failures sorted into refusals and outages.

use std::borrow::Cow;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::url::Url;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use otp_core::ports::{AuthorizationRequest, CodeExchange, OAuthError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::http::{HttpError, ProviderHttp};

/// The ID token of an OpenID Connect token response, kept as text: it is parsed and
/// verified separately, so a malformed one is reported as such rather than as an
/// unreadable response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

/// A token endpoint's answer.
pub(crate) type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An `oauth2` client with its authorization and token endpoints set.
pub(crate) type CodeClient = Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A client that sends its credentials in the request body (both Google and GitHub
/// accept that).
pub(crate) fn code_client(
    client_id: &str,
    client_secret: &SecretString,
    auth_url: Url,
    token_url: Url,
) -> CodeClient {
    Client::new(ClientId::new(client_id.to_owned()))
        .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
        .set_auth_uri(AuthUrl::from_url(auth_url))
        .set_token_uri(TokenUrl::from_url(token_url))
        .set_auth_type(AuthType::RequestBody)
}

fn redirect_url(uri: &str) -> Result<RedirectUrl, OAuthError> {
    RedirectUrl::new(uri.to_owned())
        .map_err(|error| OAuthError::unavailable(format!("redirect URI: {error}")))
}

/// The authorization URL: `response_type=code`, the client id, the redirect URI, the
/// scopes, the state, the PKCE S256 challenge and, for OpenID Connect, the nonce.
pub(crate) fn authorization_url(
    client: &CodeClient,
    request: &AuthorizationRequest,
    scopes: &[&str],
    send_nonce: bool,
) -> Result<String, OAuthError> {
    let state = request.state.clone();
    let mut builder = client
        .authorize_url(move || CsrfToken::new(state))
        .set_redirect_uri(Cow::Owned(redirect_url(&request.redirect_uri)?))
        .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
        // The verifier stays in the domain's state store; only its challenge is sent.
        .add_extra_param("code_challenge", request.code_challenge.clone())
        .add_extra_param("code_challenge_method", "S256");
    if send_nonce {
        builder = builder.add_extra_param("nonce", request.nonce.clone());
    }
    let (url, _) = builder.url();
    Ok(url.into())
}

/// Error codes that mean the provider refused this server's client registration, not
/// the code: an operator must fix the configuration, so they are reported as the
/// provider being unusable rather than as the client's fault.
const CONFIGURATION_ERRORS: [&str; 6] = [
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    // GitHub's names.
    "incorrect_client_credentials",
    "redirect_uri_mismatch",
];

fn refusal(code: &str) -> OAuthError {
    if CONFIGURATION_ERRORS.contains(&code) {
        tracing::error!(error = code, "the provider refused this server's client configuration");
        OAuthError::unavailable(format!("the token endpoint refused the client configuration ({code})"))
    } else {
        tracing::info!(error = code, "the token endpoint refused the code");
        OAuthError::CodeRejected
    }
}

/// Exchanges the code with the PKCE verifier at the redirect URI the sign-in used.
///
/// A refusal of the code (`invalid_grant`, GitHub's `bad_verification_code`, even when
/// GitHub sends it with status 200) is [`OAuthError::CodeRejected`]; a refusal of the
/// client's own credentials, a transport failure or an unreadable answer is
/// [`OAuthError::Unavailable`]. Response bodies never reach errors or logs: they may
/// hold tokens.
pub(crate) async fn exchange_code(
    client: &CodeClient,
    http: &ProviderHttp,
    exchange: &CodeExchange,
) -> Result<TokenResponse, OAuthError> {
    let outcome = client
        .exchange_code(AuthorizationCode::new(exchange.code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(exchange.code_verifier.clone()))
        .set_redirect_uri(Cow::Owned(redirect_url(&exchange.redirect_uri)?))
        .request_async(http)
        .await;
    match outcome {
        Ok(response) => Ok(response),
        Err(RequestTokenError::ServerResponse(error)) => Err(refusal(error.error().as_ref())),
        Err(RequestTokenError::Parse(_, body)) => match serde_json::from_slice::<BasicErrorResponse>(&body) {
            Ok(error) => Err(refusal(error.error().as_ref())),
            Err(_) => Err(OAuthError::unavailable("the token endpoint's answer could not be read")),
        },
        Err(RequestTokenError::Request(error)) => Err(transport(error)),
        Err(RequestTokenError::Other(reason)) => {
            Err(OAuthError::unavailable(format!("token endpoint: {reason}")))
        }
    }
}

/// A failed call: the provider is unavailable.
pub(crate) fn transport(error: HttpError) -> OAuthError {
    OAuthError::unavailable(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> CodeClient {
        code_client(
            "client-1",
            &SecretString::from("s3cret"),
            Url::parse("https://idp.example/authorize?prompt=select_account").unwrap(),
            Url::parse("https://idp.example/token").unwrap(),
        )
    }

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            state: "state-1".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            nonce: "nonce-1".into(),
            redirect_uri: "http://127.0.0.1:8080/oauth/callback".into(),
        }
    }

    fn query(url: &str) -> Vec<(String, String)> {
        Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    #[test]
    fn the_authorization_url_carries_the_challenge_state_and_nonce_but_no_secret() {
        let url = authorization_url(&client(), &request(), &["openid", "email"], true).unwrap();
        let pairs = query(&url);
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert!(url.starts_with("https://idp.example/authorize?"));
        assert_eq!(get("prompt"), Some("select_account"), "the configured query is kept");
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("client-1"));
        assert_eq!(get("state"), Some("state-1"));
        assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:8080/oauth/callback"));
        assert_eq!(get("scope"), Some("openid email"));
        assert_eq!(get("code_challenge"), Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("nonce"), Some("nonce-1"));
        assert!(!url.contains("s3cret"));
    }

    #[test]
    fn without_openid_connect_no_nonce_is_sent() {
        let url = authorization_url(&client(), &request(), &["read:user"], false).unwrap();
        assert!(query(&url).iter().all(|(name, _)| name != "nonce"));
    }

    #[test]
    fn code_refusals_and_configuration_refusals_are_told_apart() {
        assert!(matches!(refusal("invalid_grant"), OAuthError::CodeRejected));
        assert!(matches!(refusal("bad_verification_code"), OAuthError::CodeRejected));
        assert!(matches!(refusal("invalid_client"), OAuthError::Unavailable(_)));
        assert!(matches!(refusal("incorrect_client_credentials"), OAuthError::Unavailable(_)));
    }
}
