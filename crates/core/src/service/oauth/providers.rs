//! The providers the OAuth sign-in service knows and signs in with.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::OAuthSignInError;
use crate::error::ValidationError;
use crate::ports::OAuthProvider;

/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_CHARS: usize = 2048;

/// A provider the service signs in with, and where the provider may send browsers back.
#[derive(Debug, Clone)]
pub(super) struct RegisteredProvider {
    pub(super) provider: Arc<dyn OAuthProvider>,
    pub(super) default_redirect_uri: String,
    allowed_redirect_uris: Vec<String>,
}

impl RegisteredProvider {
    /// Exact string comparison, as the OAuth 2.0 security BCP requires.
    pub(super) fn allows(&self, redirect_uri: &str) -> bool {
        self.allowed_redirect_uris.iter().any(|allowed| allowed == redirect_uri)
    }
}

/// The providers the service knows (`supported`, in the order they are listed) and
/// those it signs in with (`added`), each with its redirect-URI allow-list.
#[derive(Debug, Clone, Default)]
pub struct OAuthProviders {
    supported: Vec<String>,
    by_name: BTreeMap<String, RegisteredProvider>,
}

impl OAuthProviders {
    /// Knows the providers named in `supported` (in that order), signing in with none
    /// of them yet. A name outside this list is unknown: asked for, it is
    /// [`OAuthSignInError::UnknownProvider`], while a supported provider that was never
    /// added is [`OAuthSignInError::ProviderNotConfigured`].
    pub fn new<S: Into<String>>(supported: impl IntoIterator<Item = S>) -> Self {
        Self { supported: supported.into_iter().map(Into::into).collect(), by_name: BTreeMap::new() }
    }

    /// Signs in with `provider` too. `redirect_uri` is where the provider sends browsers back when a
    /// sign-in names none, and is always allowed; `also_allowed` are further redirect
    /// URIs a sign-in may name. URIs are compared exactly.
    ///
    /// # Errors
    /// [`ValidationError`] when the provider is not a supported one, one of that name is
    /// already added, or a redirect URI is empty or longer than [`MAX_REDIRECT_URI_CHARS`].
    pub fn add(
        &mut self,
        provider: Arc<dyn OAuthProvider>,
        redirect_uri: impl Into<String>,
        also_allowed: impl IntoIterator<Item = String>,
    ) -> Result<(), ValidationError> {
        let name = provider.name().to_owned();
        if !self.supported.contains(&name) {
            return Err(ValidationError::new("provider", format!("{name} is not a supported provider")));
        }
        if self.by_name.contains_key(&name) {
            return Err(ValidationError::new("provider", format!("{name} is added twice")));
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

    /// The names of the providers signed in with, in the order of the supported list.
    pub fn configured(&self) -> impl Iterator<Item = &str> {
        self.supported.iter().map(String::as_str).filter(|name| self.by_name.contains_key(*name))
    }

    /// The supported provider called `name`, as the service's own name for it.
    pub(super) fn supported(&self, name: &str) -> Result<&str, OAuthSignInError> {
        self.supported
            .iter()
            .map(String::as_str)
            .find(|known| *known == name)
            .ok_or(OAuthSignInError::UnknownProvider)
    }

    /// The provider called `name`, when it was added.
    pub(super) fn get(&self, name: &str) -> Result<&RegisteredProvider, OAuthSignInError> {
        self.by_name.get(name).ok_or_else(|| OAuthSignInError::ProviderNotConfigured(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::ports::{AuthorizationRequest, CodeExchange, OAuthError, ProviderIdentity};

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
        let mut providers = OAuthProviders::new(["google", "github"]);
        let extra = vec!["https://app.example.com/cb".to_owned(), CALLBACK.to_owned()];
        providers.add(Arc::new(Named("google")), CALLBACK, extra).unwrap();
        let google = providers.get("google").unwrap();
        assert_eq!(google.default_redirect_uri, CALLBACK);
        assert_eq!(google.allowed_redirect_uris, [CALLBACK, "https://app.example.com/cb"], "deduplicated");
        assert!(google.allows(CALLBACK) && google.allows("https://app.example.com/cb"));
        assert!(!google.allows("https://app.example.com/cb/") && !google.allows("https://app.example.com"));
        assert!(
            matches!(providers.get("github"), Err(OAuthSignInError::ProviderNotConfigured(name)) if name == "github")
        );
        assert_eq!(providers.supported("github").unwrap(), "github");
        assert!(matches!(providers.supported("gitlab"), Err(OAuthSignInError::UnknownProvider)));
    }

    #[test]
    fn a_provider_is_registered_once_with_usable_redirect_uris() {
        let mut providers = OAuthProviders::new(["google", "github"]);
        providers.add(Arc::new(Named("github")), CALLBACK, []).unwrap();
        assert_eq!(providers.configured().collect::<Vec<_>>(), ["github"]);
        providers.add(Arc::new(Named("google")), CALLBACK, []).unwrap();
        assert!(providers.add(Arc::new(Named("github")), CALLBACK, []).is_err());
        assert!(providers.add(Arc::new(Named("gitlab")), CALLBACK, []).is_err(), "not supported");
        assert_eq!(providers.configured().collect::<Vec<_>>(), ["google", "github"], "the supported order");
    }
}
