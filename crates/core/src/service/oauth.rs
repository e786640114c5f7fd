//! Sign-in with an OAuth 2.0 / OpenID Connect provider: start (state, PKCE, nonce),
//! callback (single-use state, code exchange), and the account the identity signs in to.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{Action, AuthService, SignedIn};
use crate::domain::{ClientContext, User};
use crate::error::{AuthError, PortError, ValidationError};
use crate::ports::{
    AuthorizationRequest, CodeExchange, LinkedIdentity, OAuthProvider, PendingAuthorization, ProviderIdentity,
};

/// Longest authorization code accepted at the callback.
pub const MAX_AUTHORIZATION_CODE_CHARS: usize = 2048;

/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_CHARS: usize = 2048;

/// Random bytes in each `state`, PKCE verifier and nonce (base64url: 43 characters).
const RANDOM_BYTES: usize = 32;

/// A provider the service signs in with, and where the provider may send browsers back.
#[derive(Debug, Clone)]
struct RegisteredProvider {
    provider: Arc<dyn OAuthProvider>,
    default_redirect_uri: String,
    allowed_redirect_uris: Vec<String>,
}

impl RegisteredProvider {
    /// Exact string comparison, as the OAuth 2.0 security BCP requires.
    fn allows(&self, redirect_uri: &str) -> bool {
        self.allowed_redirect_uris.iter().any(|allowed| allowed == redirect_uri)
    }
}

/// The providers the service signs in with, by name, each with its redirect-URI
/// allow-list.
#[derive(Debug, Clone, Default)]
pub struct OAuthProviders {
    by_name: BTreeMap<String, RegisteredProvider>,
}

impl OAuthProviders {
    /// No providers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `provider`. `redirect_uri` is where the provider sends browsers back when a
    /// sign-in names none, and is always allowed; `also_allowed` are further redirect
    /// URIs a sign-in may name. URIs are compared exactly.
    ///
    /// # Errors
    /// [`ValidationError`] when a provider of that name is already registered, or a
    /// redirect URI is empty or longer than [`MAX_REDIRECT_URI_CHARS`].
    pub fn register(
        &mut self,
        provider: Arc<dyn OAuthProvider>,
        redirect_uri: impl Into<String>,
        also_allowed: impl IntoIterator<Item = String>,
    ) -> Result<(), ValidationError> {
        let name = provider.name().to_owned();
        if self.by_name.contains_key(&name) {
            return Err(ValidationError::new("provider", format!("{name} is registered twice")));
        }
        let default_redirect_uri = redirect_uri.into();
        let mut allowed_redirect_uris = vec![default_redirect_uri.clone()];
        for uri in also_allowed {
            if !allowed_redirect_uris.contains(&uri) {
                allowed_redirect_uris.push(uri);
            }
        }
        if allowed_redirect_uris
            .iter()
            .any(|uri| uri.is_empty() || uri.chars().count() > MAX_REDIRECT_URI_CHARS)
        {
            return Err(ValidationError::new("redirect_uri", "must be between 1 and 2048 characters"));
        }
        self.by_name
            .insert(name, RegisteredProvider { provider, default_redirect_uri, allowed_redirect_uris });
        Ok(())
    }

    /// The names of the registered providers, in byte order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    fn get(&self, name: &str) -> Result<&RegisteredProvider, AuthError> {
        self.by_name.get(name).ok_or_else(|| AuthError::OAuthProviderNotConfigured(name.to_owned()))
    }
}

/// A started provider sign-in: where to send the browser, and the `state` the callback
/// must present.
#[derive(Clone)]
pub struct OAuthStart {
    /// The provider's name.
    pub provider: String,
    /// The provider's authorization URL, with state, PKCE challenge and nonce.
    pub auth_url: String,
    /// The single-use state (also in `auth_url`); the client keeps it to check that the
    /// callback it receives answers its own sign-in.
    pub state: String,
}

impl fmt::Debug for OAuthStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthStart").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// 256 fresh random bits, base64url without padding.
fn random_token() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The PKCE S256 challenge of `verifier` (RFC 7636, section 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `state` has the shape of a state this service issues; anything else is
/// refused without a storage lookup.
fn is_well_formed_state(state: &str) -> bool {
    state.len() <= 64 && URL_SAFE_NO_PAD.decode(state).is_ok_and(|bytes| bytes.len() == RANDOM_BYTES)
}

fn check_code(code: &str) -> Result<(), ValidationError> {
    if code.is_empty() {
        return Err(ValidationError::new("code", "must not be empty"));
    }
    if code.len() > MAX_AUTHORIZATION_CODE_CHARS {
        return Err(ValidationError::new("code", "must be at most 2048 characters"));
    }
    if !code.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ValidationError::new("code", "must be printable ASCII"));
    }
    Ok(())
}

impl AuthService {
    /// The names of the providers this service signs in with.
    pub fn oauth_provider_names(&self) -> Vec<String> {
        self.oauth.names().map(str::to_owned).collect()
    }

    /// Starts a sign-in with `provider`: stores a fresh single-use state with a PKCE
    /// verifier, a nonce and the redirect URI, and answers the provider's authorization
    /// URL. `redirect_uri` defaults to the provider's configured one and must be on its
    /// allow-list.
    ///
    /// # Errors
    /// [`AuthError::OAuthProviderNotConfigured`], [`AuthError::OAuthRedirectUriNotAllowed`],
    /// [`AuthError::RateLimited`], [`AuthError::OAuth`] when the provider's settings are
    /// unusable, or a port failure.
    #[tracing::instrument(skip_all, fields(provider = provider))]
    pub async fn oauth_start(
        &self,
        provider: &str,
        redirect_uri: Option<&str>,
        client: &ClientContext,
    ) -> Result<OAuthStart, AuthError> {
        self.throttle(Action::OAuthStart, client, None).await?;
        let registered = self.oauth.get(provider)?;
        let redirect_uri = match redirect_uri {
            None => registered.default_redirect_uri.clone(),
            Some(uri) if registered.allows(uri) => uri.to_owned(),
            Some(_) => return Err(AuthError::OAuthRedirectUriNotAllowed),
        };
        let (state, code_verifier, nonce) = (random_token(), random_token(), random_token());
        let request = AuthorizationRequest {
            state: state.clone(),
            code_challenge: pkce_challenge(&code_verifier),
            nonce: nonce.clone(),
            redirect_uri: redirect_uri.clone(),
        };
        let auth_url = registered.provider.authorization_url(&request).map_err(AuthError::OAuth)?;
        let now = self.now();
        let pending = PendingAuthorization {
            provider: provider.to_owned(),
            code_verifier,
            nonce,
            redirect_uri,
            expires_at: now + self.policy.oauth_state_ttl,
        };
        self.ports.oauth_states.put(&self.hasher.state_hash(&state), &pending, now).await?;
        tracing::info!("provider sign-in started");
        Ok(OAuthStart { provider: provider.to_owned(), auth_url, state })
    }

    /// Completes a sign-in with `provider`: consumes the state (whatever happens next, it
    /// never works again), checks it was issued for this provider and redirect URI and
    /// is still fresh, exchanges the code with the PKCE verifier, and signs in the
    /// account of the identity the provider vouches for.
    ///
    /// The identity is keyed by (provider, subject). A known identity signs in its
    /// account. A new one whose verified address matches an account is linked to it
    /// only if that account's address is verified ([`AuthError::AccountExists`]
    /// otherwise); with no such account, an account is created with the address
    /// verified and no password.
    ///
    /// # Errors
    /// [`AuthError::OAuthProviderNotConfigured`], [`AuthError::Validation`] for a
    /// malformed code, [`AuthError::OAuthStateInvalid`], [`AuthError::OAuthStateExpired`],
    /// [`AuthError::OAuthStateProviderMismatch`], [`AuthError::OAuthRedirectUriMismatch`],
    /// [`AuthError::OAuth`] when the provider refuses or fails,
    /// [`AuthError::AccountExists`], [`AuthError::AccountDisabled`],
    /// [`AuthError::RateLimited`], or a port failure.
    #[tracing::instrument(skip_all, fields(provider = provider))]
    pub async fn oauth_callback(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        redirect_uri: Option<&str>,
        client: &ClientContext,
    ) -> Result<SignedIn, AuthError> {
        self.throttle(Action::OAuthCallback, client, None).await?;
        let registered = self.oauth.get(provider)?;
        check_code(code)?;
        if !is_well_formed_state(state) {
            return Err(AuthError::OAuthStateInvalid);
        }
        let pending = self
            .ports
            .oauth_states
            .take(&self.hasher.state_hash(state))
            .await?
            .ok_or(AuthError::OAuthStateInvalid)?;
        let now = self.now();
        if pending.expires_at <= now {
            return Err(AuthError::OAuthStateExpired);
        }
        if pending.provider != provider {
            tracing::warn!(issued_for = %pending.provider, "state presented to another provider");
            return Err(AuthError::OAuthStateProviderMismatch);
        }
        if redirect_uri.is_some_and(|uri| uri != pending.redirect_uri) {
            return Err(AuthError::OAuthRedirectUriMismatch);
        }
        let exchange = CodeExchange {
            code: code.to_owned(),
            code_verifier: pending.code_verifier,
            nonce: pending.nonce,
            redirect_uri: pending.redirect_uri,
        };
        let identity = registered.provider.exchange(&exchange).await.map_err(|error| {
            tracing::info!(error = %error, "provider refused the sign-in");
            AuthError::OAuth(error)
        })?;
        if identity.provider != provider {
            return Err(AuthError::Internal(
                format!("the {provider} adapter answered an identity of {}", identity.provider).into(),
            ));
        }
        let user = self.account_for_identity(&identity).await?;
        self.start_session(user, client, self.now()).await
    }

    /// The account `identity` signs in to, linking or creating it as the rules say.
    async fn account_for_identity(&self, identity: &ProviderIdentity) -> Result<User, AuthError> {
        if let Some(user) = self.linked_account(identity).await? {
            return Ok(user);
        }
        let now = self.now();
        let user = match self.ports.users.find_by_email(&identity.email).await? {
            Some(existing) => existing,
            None => self.create_provider_user(identity).await?,
        };
        if !user.is_verified() {
            tracing::info!(user_id = %user.id, "provider address matches an unverified account; not linked");
            return Err(AuthError::AccountExists);
        }
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let link = LinkedIdentity {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            user_id: user.id,
            email: identity.email.clone(),
            linked_at: now,
        };
        match self.ports.identities.link(&link).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "provider identity linked");
                Ok(user)
            }
            // A concurrent callback of the same identity linked it first: use its link.
            Err(PortError::IdentityTaken) => self
                .linked_account(identity)
                .await?
                .ok_or_else(|| AuthError::Internal("identity vanished after a conflict".into())),
            Err(other) => Err(other.into()),
        }
    }

    /// The account a known identity is linked to.
    async fn linked_account(&self, identity: &ProviderIdentity) -> Result<Option<User>, AuthError> {
        let Some(link) = self.ports.identities.find(&identity.provider, &identity.subject).await? else {
            return Ok(None);
        };
        match self.ports.users.find_by_id(link.user_id).await? {
            Some(user) => Ok(Some(user)),
            None => Err(AuthError::Internal(
                format!("identity linked to missing account {}", link.user_id).into(),
            )),
        }
    }

    /// Creates the account of a first provider sign-in; if a concurrent request created
    /// an account with the address first, returns that one (the caller then applies the
    /// linking rules to it).
    async fn create_provider_user(&self, identity: &ProviderIdentity) -> Result<User, AuthError> {
        let user = User::new_from_provider(identity.email.clone(), self.now());
        match self.ports.users.create(&user).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "account created by provider sign-in");
                Ok(user)
            }
            Err(PortError::EmailTaken) => self
                .ports
                .users
                .find_by_email(&identity.email)
                .await?
                .ok_or_else(|| AuthError::Internal("account vanished after a conflict".into())),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::ports::OAuthError;

    #[derive(Debug)]
    struct Named(&'static str);

    #[async_trait]
    impl OAuthProvider for Named {
        fn name(&self) -> &str {
            self.0
        }

        fn authorization_url(&self, _: &AuthorizationRequest) -> Result<String, OAuthError> {
            Ok(String::new())
        }

        async fn exchange(&self, _: &CodeExchange) -> Result<ProviderIdentity, OAuthError> {
            Err(OAuthError::CodeRejected)
        }
    }

    const CALLBACK: &str = "http://127.0.0.1:8080/oauth/callback";

    #[test]
    fn a_registered_provider_allows_its_own_redirect_uri_and_the_listed_ones_exactly() {
        let mut providers = OAuthProviders::new();
        let extra = vec!["https://app.example.com/cb".to_owned(), CALLBACK.to_owned()];
        providers.register(Arc::new(Named("google")), CALLBACK, extra).unwrap();
        let google = providers.get("google").unwrap();
        assert_eq!(google.default_redirect_uri, CALLBACK);
        assert_eq!(google.allowed_redirect_uris, [CALLBACK, "https://app.example.com/cb"], "deduplicated");
        assert!(google.allows(CALLBACK) && google.allows("https://app.example.com/cb"));
        assert!(!google.allows("https://app.example.com/cb/") && !google.allows("https://app.example.com"));
        assert!(
            matches!(providers.get("github"), Err(AuthError::OAuthProviderNotConfigured(name)) if name == "github")
        );
    }

    #[test]
    fn a_provider_is_registered_once_with_usable_redirect_uris() {
        let mut providers = OAuthProviders::new();
        providers.register(Arc::new(Named("github")), CALLBACK, []).unwrap();
        providers.register(Arc::new(Named("google")), CALLBACK, []).unwrap();
        assert!(providers.register(Arc::new(Named("github")), CALLBACK, []).is_err());
        assert!(providers.register(Arc::new(Named("other")), "", []).is_err());
        assert_eq!(providers.names().collect::<Vec<_>>(), ["github", "google"]);
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(pkce_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn random_tokens_are_43_url_safe_characters_and_differ() {
        let (first, second) = (random_token(), random_token());
        assert_eq!(first.len(), 43);
        assert!(first.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'));
        assert_ne!(first, second);
        assert!(is_well_formed_state(&first));
    }

    #[test]
    fn states_of_another_shape_are_refused_before_any_lookup() {
        for state in
            ["", "abc", &"A".repeat(44), &"A".repeat(1000), "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!"]
        {
            assert!(!is_well_formed_state(state), "{state:?}");
        }
    }

    #[test]
    fn codes_must_be_short_printable_ascii() {
        assert!(check_code("4/0AX4XfWh-abc_def").is_ok());
        assert_eq!(check_code("").unwrap_err().field, "code");
        assert!(check_code("a b").is_err());
        assert!(check_code("é").is_err());
        assert!(check_code(&"a".repeat(MAX_AUTHORIZATION_CODE_CHARS + 1)).is_err());
    }
}
