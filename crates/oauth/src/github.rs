//! Sign-in with GitHub: OAuth 2.0 authorization code with PKCE, then the account's
//! numeric id and its primary verified address from the REST API.

use std::fmt;

use async_trait::async_trait;
use oauth2::TokenResponse as _;
use oauth2::url::Url;
use otp_core::EmailAddress;
use otp_core::ports::{AuthorizationRequest, CodeExchange, OAuthError, OAuthProvider, ProviderIdentity};
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::endpoint::{endpoint, required};
use crate::error::OAuthSetupError;
use crate::http::{HttpLimits, ProviderHttp, parse_json};
use crate::token::{CodeClient, authorization_url, code_client, exchange_code, transport};

/// The provider's name in URLs and in linked identities.
pub const GITHUB: &str = "github";

/// The scopes asked for: the profile (for the id) and the addresses with their
/// verification state.
const SCOPES: [&str; 2] = ["read:user", "user:email"];

/// The REST API version the answers are read as.
const API_VERSION: &str = "2022-11-28";

/// How to reach GitHub (or a GitHub Enterprise Server), and as which OAuth app.
#[derive(Clone)]
pub struct GitHubConfig {
    /// The OAuth app's client id (`GITHUB_CLIENT_ID`).
    pub client_id: String,
    /// The OAuth app's client secret (`GITHUB_CLIENT_SECRET`).
    pub client_secret: SecretString,
    /// Authorization endpoint (`GITHUB_AUTH_URL`).
    pub auth_url: String,
    /// Token endpoint (`GITHUB_TOKEN_URL`).
    pub token_url: String,
    /// REST API root (`GITHUB_API_URL`; `https://HOST/api/v3` for GitHub Enterprise
    /// Server).
    pub api_url: String,
    /// Time limits of calls to GitHub.
    pub http: HttpLimits,
}

impl GitHubConfig {
    /// GitHub's authorization endpoint.
    pub const DEFAULT_AUTH_URL: &'static str = "https://github.com/login/oauth/authorize";
    /// GitHub's token endpoint.
    pub const DEFAULT_TOKEN_URL: &'static str = "https://github.com/login/oauth/access_token";
    /// GitHub's REST API.
    pub const DEFAULT_API_URL: &'static str = "https://api.github.com";

    /// github.com, for the OAuth app `client_id`.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            auth_url: Self::DEFAULT_AUTH_URL.to_owned(),
            token_url: Self::DEFAULT_TOKEN_URL.to_owned(),
            api_url: Self::DEFAULT_API_URL.to_owned(),
            http: HttpLimits::default(),
        }
    }
}

impl fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("api_url", &self.api_url)
            .field("http", &self.http)
            .finish()
    }
}

/// `GET /user`, as far as it is read.
#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
}

/// One entry of `GET /user/emails`.
#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

/// [`OAuthProvider`] for GitHub.
///
/// The authorization URL asks for `read:user user:email` with the state and the PKCE
/// S256 challenge (GitHub has no nonce). The exchange sends the code with the PKCE
/// verifier, then reads `GET /user` (the subject is the account's numeric `id`, which
/// never changes, unlike the login) and `GET /user/emails`, taking the address marked
/// both `primary` and `verified`; without one the sign-in is refused.
pub struct GitHubProvider {
    client: CodeClient,
    http: ProviderHttp,
    api_url: Url,
    client_id: String,
}

impl fmt::Debug for GitHubProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubProvider")
            .field("client_id", &self.client_id)
            .field("api_url", &self.api_url.as_str())
            .finish_non_exhaustive()
    }
}

impl GitHubProvider {
    /// A provider for `config`.
    ///
    /// # Errors
    /// [`OAuthSetupError`] when a setting is empty or an endpoint is not an `https`
    /// URL (plain `http` is allowed to `localhost` only).
    pub fn new(config: GitHubConfig) -> Result<Self, OAuthSetupError> {
        let client_id = required("client_id", &config.client_id)?;
        if config.client_secret.expose_secret().trim().is_empty() {
            return Err(OAuthSetupError::invalid("client_secret", "must not be empty"));
        }
        let mut api_url = endpoint("api_url", &config.api_url)?;
        if !api_url.path().ends_with('/') {
            // So that joining `user` keeps an Enterprise Server's `/api/v3` prefix.
            let path = format!("{}/", api_url.path());
            api_url.set_path(&path);
        }
        Ok(Self {
            client: code_client(
                &client_id,
                &config.client_secret,
                endpoint("auth_url", &config.auth_url)?,
                endpoint("token_url", &config.token_url)?,
            ),
            http: ProviderHttp::new(config.http)?,
            api_url,
            client_id,
        })
    }

    /// `GET {api_url}{path}` with the user's access token, read as `T`.
    async fn api<T: DeserializeOwned>(&self, path: &str, access_token: &str) -> Result<T, OAuthError> {
        let url = self
            .api_url
            .join(path)
            .map_err(|error| OAuthError::unavailable(format!("GitHub API URL: {error}")))?;
        let request = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", API_VERSION)
            .build()
            .map_err(|error| OAuthError::unavailable(format!("GitHub API request: {error}")))?;
        let response = self.http.send(request).await.map_err(transport)?;
        match response.status() {
            StatusCode::OK => parse_json(response.body(), "the GitHub API's answer"),
            status => Err(OAuthError::unavailable(format!("GitHub API {path} answered {status}"))),
        }
    }
}

/// The address marked both primary and verified.
fn primary_verified(emails: &[GitHubEmail]) -> Result<EmailAddress, OAuthError> {
    let email =
        emails.iter().find(|email| email.primary && email.verified).ok_or(OAuthError::EmailNotVerified)?;
    EmailAddress::parse(&email.email).map_err(|_| {
        OAuthError::unavailable(
            "GitHub's primary verified address is not one this service accepts".to_owned(),
        )
    })
}

#[async_trait]
impl OAuthProvider for GitHubProvider {
    fn name(&self) -> &str {
        GITHUB
    }

    fn authorization_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError> {
        authorization_url(&self.client, request, &SCOPES, false)
    }

    async fn exchange(&self, exchange: &CodeExchange) -> Result<ProviderIdentity, OAuthError> {
        let response = exchange_code(&self.client, &self.http, exchange).await?;
        let access_token = response.access_token().secret();
        let user: GitHubUser = self.api("user", access_token).await?;
        let emails: Vec<GitHubEmail> = self.api("user/emails?per_page=100", access_token).await?;
        let email = primary_verified(&emails)?;
        Ok(ProviderIdentity { provider: GITHUB.to_owned(), subject: user.id.to_string(), email })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(email: &str, primary: bool, verified: bool) -> GitHubEmail {
        GitHubEmail { email: email.to_owned(), primary, verified }
    }

    #[test]
    fn only_the_primary_verified_address_counts() {
        let emails = [
            entry("old@example.com", false, true),
            entry("Main@Example.com", true, true),
            entry("x@example.com", false, false),
        ];
        assert_eq!(primary_verified(&emails).unwrap().as_str(), "main@example.com");
        let unverified_primary =
            [entry("main@example.com", true, false), entry("other@example.com", false, true)];
        assert!(matches!(primary_verified(&unverified_primary), Err(OAuthError::EmailNotVerified)));
        assert!(matches!(primary_verified(&[]), Err(OAuthError::EmailNotVerified)));
    }

    #[test]
    fn enterprise_api_roots_keep_their_path() {
        let mut config = GitHubConfig::new("id", SecretString::from("secret"));
        config.api_url = "https://ghe.example.com/api/v3".into();
        let provider = GitHubProvider::new(config).unwrap();
        assert_eq!(provider.api_url.join("user").unwrap().as_str(), "https://ghe.example.com/api/v3/user");
        let provider = GitHubProvider::new(GitHubConfig::new("id", SecretString::from("secret"))).unwrap();
        assert_eq!(
            provider.api_url.join("user/emails").unwrap().as_str(),
            "https://api.github.com/user/emails"
        );
    }

    #[test]
    fn empty_credentials_are_refused_by_name() {
        let error = GitHubProvider::new(GitHubConfig::new(" ", SecretString::from("secret"))).unwrap_err();
        assert_eq!(error.setting(), Some("client_id"));
        let error = GitHubProvider::new(GitHubConfig::new("id", SecretString::from(""))).unwrap_err();
        assert_eq!(error.setting(), Some("client_secret"));
        assert!(!format!("{:?}", GitHubConfig::new("id", SecretString::from("hunter2"))).contains("hunter2"));
    }
}
