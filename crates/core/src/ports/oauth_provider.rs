use async_trait::async_trait;

use crate::domain::EmailAddress;
use crate::error::BoxError;

/// What the authorization redirect must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// Random single-use value bound server-side to this request.
    pub state: String,
    /// PKCE S256 challenge derived from the verifier kept server-side.
    pub code_challenge: String,
    /// Random value the ID token must echo (OpenID Connect providers).
    pub nonce: String,
    /// Where the provider sends the browser back; already checked against the
    /// allow-list.
    pub redirect_uri: String,
}

/// What the server kept from the authorization request, presented at the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeExchange {
    /// The authorization code from the callback.
    pub code: String,
    /// The PKCE verifier whose challenge was sent.
    pub code_verifier: String,
    /// The nonce that was sent.
    pub nonce: String,
    /// The redirect URI that was sent.
    pub redirect_uri: String,
}

/// The person the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The provider's name (`google`, `github`).
    pub provider: String,
    /// The provider's stable subject identifier for the person.
    pub subject: String,
    /// The address the provider says it verified.
    pub email: EmailAddress,
}

/// Why a provider sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The token endpoint refused the code, the PKCE verifier or the redirect URI
    /// (`invalid_grant` and its kin).
    #[error(
        "the provider refused the authorization code (it is wrong, used, expired, or was issued for another sign-in)"
    )]
    CodeRejected,
    /// The ID token is malformed, its signature does not verify against the provider's
    /// keys, or its issuer, expiry or algorithm is wrong; the text says which.
    #[error("the provider's ID token is invalid: {0}")]
    InvalidIdToken(String),
    /// The ID token is well signed but was issued to another client (`aud`).
    #[error("the provider's ID token was issued to another client")]
    IdTokenAudience,
    /// The ID token does not carry the nonce of this sign-in (a replayed or injected
    /// token).
    #[error("the provider's ID token does not belong to this sign-in (nonce mismatch)")]
    IdTokenNonce,
    /// The provider has no verified address for the person.
    #[error("the provider has no verified email address for this account")]
    EmailNotVerified,
    /// The provider could not be reached or answered nonsense.
    #[error("the provider is unavailable")]
    Unavailable(#[source] BoxError),
}

impl OAuthError {
    /// Wraps a transport failure or an unusable answer.
    pub fn unavailable(error: impl Into<BoxError>) -> Self {
        Self::Unavailable(error.into())
    }
}

/// An OAuth 2.0 / OpenID Connect identity provider (authorization code + PKCE).
#[async_trait]
pub trait OAuthProvider: Send + Sync + std::fmt::Debug {
    /// The provider's name in URLs (`google`, `github`).
    fn name(&self) -> &str;

    /// The URL to send the browser to.
    ///
    /// # Errors
    /// [`OAuthError::Unavailable`] when the provider's configuration is unusable.
    fn authorization_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError>;

    /// Exchanges the authorization code (with the PKCE verifier) and returns the
    /// verified identity. MUST check the ID token's signature, issuer, audience,
    /// expiry and nonce where the provider issues one, and MUST return
    /// [`OAuthError::EmailNotVerified`] rather than an unverified address.
    ///
    /// # Errors
    /// See [`OAuthError`].
    async fn exchange(&self, exchange: &CodeExchange) -> Result<ProviderIdentity, OAuthError>;
}
