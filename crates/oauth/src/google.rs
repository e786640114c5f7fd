//! Sign-in with Google: OpenID Connect, authorization code with PKCE, and an ID token
//! verified against Google's published keys.

use std::fmt;

use async_trait::async_trait;
use openidconnect::IssuerUrl;
use openidconnect::core::CoreIdTokenClaims;
use otp_core::EmailAddress;
use otp_core::ports::{AuthorizationRequest, CodeExchange, OAuthError, OAuthProvider, ProviderIdentity};
use secrecy::{ExposeSecret, SecretString};

use crate::endpoint::{endpoint, required};
use crate::error::OAuthSetupError;
use crate::http::{HttpLimits, ProviderHttp};
use crate::id_token::{self, IdTokenRules, Refusal};
use crate::jwks::JwksCache;
use crate::token::{CodeClient, authorization_url, code_client, exchange_code};

/// The provider's name in URLs and in linked identities.
pub const GOOGLE: &str = "google";

/// The scopes asked for: an ID token with the address and whether Google verified it.
const SCOPES: [&str; 2] = ["openid", "email"];

/// Google's issuer as it appears in ID tokens; Google also issues tokens whose `iss`
/// lacks the scheme, and both are accepted while the issuer is the default.
const BARE_DEFAULT_ISSUER: &str = "accounts.google.com";

/// How to reach Google, and as which client.
#[derive(Clone)]
pub struct GoogleConfig {
    /// The OAuth client id (`GOOGLE_CLIENT_ID`).
    pub client_id: String,
    /// The OAuth client secret (`GOOGLE_CLIENT_SECRET`).
    pub client_secret: SecretString,
    /// Authorization endpoint (`GOOGLE_AUTH_URL`).
    pub auth_url: String,
    /// Token endpoint (`GOOGLE_TOKEN_URL`).
    pub token_url: String,
    /// Signing keys (`GOOGLE_JWKS_URL`).
    pub jwks_url: String,
    /// The `iss` of ID tokens (`GOOGLE_ISSUER`).
    pub issuer: String,
    /// Time limits of calls to Google.
    pub http: HttpLimits,
}

impl GoogleConfig {
    /// Google's authorization endpoint.
    pub const DEFAULT_AUTH_URL: &'static str = "https://accounts.google.com/o/oauth2/v2/auth";
    /// Google's token endpoint.
    pub const DEFAULT_TOKEN_URL: &'static str = "https://oauth2.googleapis.com/token";
    /// Google's signing keys.
    pub const DEFAULT_JWKS_URL: &'static str = "https://www.googleapis.com/oauth2/v3/certs";
    /// Google's issuer.
    pub const DEFAULT_ISSUER: &'static str = "https://accounts.google.com";

    /// Google's public endpoints, for the client `client_id`.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            auth_url: Self::DEFAULT_AUTH_URL.to_owned(),
            token_url: Self::DEFAULT_TOKEN_URL.to_owned(),
            jwks_url: Self::DEFAULT_JWKS_URL.to_owned(),
            issuer: Self::DEFAULT_ISSUER.to_owned(),
            http: HttpLimits::default(),
        }
    }
}

impl fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("http", &self.http)
            .finish()
    }
}

/// [`OAuthProvider`] for Google (OpenID Connect).
///
/// The authorization URL asks for `openid email` with the state, the PKCE S256
/// challenge and the nonce. The exchange sends the code with the PKCE verifier, then
/// requires an ID token that is signed (RS256) by a key of the provider's JWKS, issued
/// by the configured issuer to this client (`aud`), unexpired, and carrying this
/// sign-in's nonce; its `email` must be present with `email_verified: true`. The
/// subject is the token's `sub`.
pub struct GoogleProvider {
    client: CodeClient,
    http: ProviderHttp,
    jwks: JwksCache,
    rules: IdTokenRules,
}

impl fmt::Debug for GoogleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleProvider").field("client_id", &self.rules.client_id).finish_non_exhaustive()
    }
}

impl GoogleProvider {
    /// A provider for `config`.
    ///
    /// # Errors
    /// [`OAuthSetupError`] when a setting is empty or an endpoint is not an `https`
    /// URL (plain `http` is allowed to `localhost` only).
    pub fn new(config: GoogleConfig) -> Result<Self, OAuthSetupError> {
        let client_id = required("client_id", &config.client_id)?;
        let issuer = required("issuer", &config.issuer)?;
        let issuer_url = IssuerUrl::new(issuer.clone())
            .map_err(|error| OAuthSetupError::invalid("issuer", error.to_string()))?;
        let mut issuers = vec![issuer.clone()];
        if issuer == GoogleConfig::DEFAULT_ISSUER {
            issuers.push(BARE_DEFAULT_ISSUER.to_owned());
        }
        if config.client_secret.expose_secret().trim().is_empty() {
            return Err(OAuthSetupError::invalid("client_secret", "must not be empty"));
        }
        let client = code_client(
            &client_id,
            &config.client_secret,
            endpoint("auth_url", &config.auth_url)?,
            endpoint("token_url", &config.token_url)?,
        );
        Ok(Self {
            client,
            http: ProviderHttp::new(config.http)?,
            jwks: JwksCache::new(endpoint("jwks_url", &config.jwks_url)?),
            rules: IdTokenRules { client_id, issuers, issuer_url },
        })
    }

    /// Verifies `raw` for this sign-in, fetching the provider's keys again once if it
    /// names a key the cached set lacks (Google rotates its keys).
    async fn verified_claims(&self, raw: &str, nonce: &str) -> Result<CoreIdTokenClaims, OAuthError> {
        let token = id_token::parse(raw)?;
        let keys = self.jwks.keys(&self.http).await?;
        match id_token::verify(&token, &keys, &self.rules, nonce) {
            Ok(claims) => Ok(claims),
            Err(Refusal::Final(error)) => Err(error),
            Err(Refusal::UnknownKey) => {
                let renewed = self.jwks.refresh(&keys, &self.http).await?;
                match id_token::verify(&token, &renewed, &self.rules, nonce) {
                    Ok(claims) => Ok(claims),
                    Err(Refusal::Final(error)) => Err(error),
                    Err(Refusal::UnknownKey) => Err(id_token::unknown_key()),
                }
            }
        }
    }
}

/// The identity in verified claims: `sub`, and `email` only if `email_verified` is true.
fn identity(claims: &CoreIdTokenClaims) -> Result<ProviderIdentity, OAuthError> {
    let subject = claims.subject().as_str();
    if subject.is_empty() || subject.len() > 255 {
        return Err(OAuthError::InvalidIdToken("its subject is empty or too long".into()));
    }
    if claims.email_verified() != Some(true) {
        return Err(OAuthError::EmailNotVerified);
    }
    let Some(email) = claims.email() else {
        return Err(OAuthError::EmailNotVerified);
    };
    let email = EmailAddress::parse(email.as_str())
        .map_err(|_| OAuthError::InvalidIdToken("its email is not an address this service accepts".into()))?;
    Ok(ProviderIdentity { provider: GOOGLE.to_owned(), subject: subject.to_owned(), email })
}

#[async_trait]
impl OAuthProvider for GoogleProvider {
    fn name(&self) -> &str {
        GOOGLE
    }

    fn authorization_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError> {
        authorization_url(&self.client, request, &SCOPES, true)
    }

    async fn exchange(&self, exchange: &CodeExchange) -> Result<ProviderIdentity, OAuthError> {
        let response = exchange_code(&self.client, &self.http, exchange).await?;
        let raw = response
            .extra_fields()
            .id_token
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidIdToken("the token response carries no ID token".into()))?;
        let claims = self.verified_claims(raw, &exchange.nonce).await?;
        identity(&claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn googles_issuer_is_accepted_with_and_without_its_scheme_but_an_override_only_as_written() {
        let provider = GoogleProvider::new(GoogleConfig::new("id", SecretString::from("secret"))).unwrap();
        assert_eq!(provider.rules.issuers, ["https://accounts.google.com", "accounts.google.com"]);
        let config = GoogleConfig {
            issuer: "https://idp.example.com".into(),
            ..GoogleConfig::new("id", SecretString::from("s"))
        };
        assert_eq!(GoogleProvider::new(config).unwrap().rules.issuers, ["https://idp.example.com"]);
    }

    #[test]
    fn empty_settings_are_refused_by_name() {
        let error = GoogleProvider::new(GoogleConfig::new("", SecretString::from("secret"))).unwrap_err();
        assert_eq!(error.setting(), Some("client_id"));
        let error = GoogleProvider::new(GoogleConfig::new("id", SecretString::from(" "))).unwrap_err();
        assert_eq!(error.setting(), Some("client_secret"));
    }
}
