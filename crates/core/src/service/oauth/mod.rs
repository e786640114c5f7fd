//! Sign-in with an OAuth 2.0 / OpenID Connect provider: start (state, PKCE, nonce),
//! callback (single-use state, code exchange), and the account the identity signs in to.

mod error;
mod providers;
mod secrets;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use error::OAuthSignInError;
pub use providers::{MAX_REDIRECT_URI_CHARS, OAuthProviders};
pub use secrets::{MAX_AUTHORIZATION_CODE_CHARS, pkce_challenge};
use secrets::{check_authorization_code, is_well_formed_state, random_token};

use super::SignedIn;
use super::devices::RememberedDevices;
use super::events::Events;
use super::session_issuer::{OnDevice, SessionIssuer};
use super::throttle::{Action, Throttle};
use crate::crypto::KeyedHasher;
use crate::domain::{AuthEventKind, AuthMethod, ClientContext, User};
use crate::error::{Failure, PortError};
use crate::policy::{AuthPolicy, PolicyError};
use crate::ports::{
    AuthorizationRequest, Clock, CodeExchange, DeviceRepository, EventPublisher, IdentityRepository,
    LinkedIdentity, Mailer, OAuthStateStore, PendingAuthorization, ProviderIdentity, RateLimiter,
    SessionRepository, UserRepository,
};
use crate::service::{Revocations, Secrets};

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
    /// A secret only the client that started the sign-in holds (never in `auth_url`):
    /// the callback must present it, so a callback URL lured from someone else's
    /// sign-in cannot complete in this client (login CSRF).
    pub client_binding: String,
}

impl fmt::Debug for OAuthStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthStart").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// The ports the OAuth sign-in service runs on.
#[derive(Debug, Clone)]
pub struct OAuthPorts {
    /// Provider sign-ins started and not yet completed.
    pub states: Arc<dyn OAuthStateStore>,
    /// Provider identities linked to accounts.
    pub identities: Arc<dyn IdentityRepository>,
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions, opened when the sign-in completes.
    pub sessions: Arc<dyn SessionRepository>,
    /// Remembered devices: a completed sign-in answers a device token.
    pub devices: Arc<dyn DeviceRepository>,
    /// Rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Outgoing mail (the new-sign-in notice).
    pub mailer: Arc<dyn Mailer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Where the sessions a sign-in pushes out (past the account's limit) are announced.
    pub revocations: Revocations,
    /// Auth events (`user.created`, `identity.linked`, `user.signed_in`).
    pub events: Arc<dyn EventPublisher>,
}

/// Sign-in with the configured OAuth providers.
#[derive(Debug, Clone)]
pub struct OAuthSignIn {
    states: Arc<dyn OAuthStateStore>,
    identities: Arc<dyn IdentityRepository>,
    users: Arc<dyn UserRepository>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    issuer: SessionIssuer,
    devices: RememberedDevices,
    hasher: KeyedHasher,
    providers: OAuthProviders,
    state_lifetime: Duration,
    events: Events,
}

impl OAuthSignIn {
    /// The service on `ports`, signing in with `providers`, hashing and signing with
    /// `secrets`, under `policy`.
    ///
    /// # Errors
    /// [`PolicyError`] when the policy is out of range.
    pub fn new(
        ports: OAuthPorts,
        providers: OAuthProviders,
        secrets: &Secrets,
        policy: &AuthPolicy,
    ) -> Result<Self, PolicyError> {
        policy.validate()?;
        let hasher = secrets.keyed_hasher.clone();
        let tokens = secrets.access_tokens(policy);
        let events = Events::new(ports.events, ports.clock.clone());
        Ok(Self {
            throttle: Throttle::new(ports.rate_limiter, ports.clock.clone(), hasher.clone(), policy),
            issuer: SessionIssuer::new(
                ports.sessions,
                tokens,
                hasher.clone(),
                policy,
                events.clone(),
                ports.revocations,
            ),
            events,
            devices: RememberedDevices::new(
                ports.devices,
                hasher.clone(),
                policy.access_token_ttl,
                ports.mailer,
                policy.max_devices_per_user,
            ),
            states: ports.states,
            identities: ports.identities,
            users: ports.users,
            clock: ports.clock,
            hasher,
            providers,
            state_lifetime: policy.oauth_state_ttl,
        })
    }

    /// The names of the providers this service signs in with, in a stable order.
    pub fn configured_providers(&self) -> Vec<String> {
        self.providers.configured().map(str::to_owned).collect()
    }

    /// Starts a sign-in with `provider`: stores a fresh single-use state with a PKCE
    /// verifier, a nonce and the redirect URI, and answers the provider's authorization
    /// URL. `redirect_uri` defaults to the provider's configured one and must be on its
    /// allow-list.
    ///
    /// # Errors
    /// [`OAuthSignInError::UnknownProvider`], [`OAuthSignInError::ProviderNotConfigured`],
    /// [`OAuthSignInError::RedirectUriNotAllowed`], [`OAuthSignInError::RateLimited`],
    /// [`OAuthSignInError::Provider`] when the provider's settings are unusable, or a
    /// failure.
    #[tracing::instrument(skip_all, fields(provider = provider))]
    pub async fn start(
        &self,
        provider: &str,
        redirect_uri: Option<&str>,
        client: &ClientContext,
    ) -> Result<OAuthStart, OAuthSignInError> {
        let provider = self.providers.supported(provider)?;
        self.throttle.check(Action::OAuthStart, client, None).await?;
        let registered = self.providers.get(provider)?;
        let redirect_uri = match redirect_uri {
            None => registered.default_redirect_uri.clone(),
            Some(uri) if registered.allows(uri) => uri.to_owned(),
            Some(_) => return Err(OAuthSignInError::RedirectUriNotAllowed),
        };
        let (state, code_verifier, nonce) = (random_token(), random_token(), random_token());
        let client_binding = random_token();
        let request = AuthorizationRequest {
            state: state.clone(),
            code_challenge: pkce_challenge(&code_verifier),
            nonce: nonce.clone(),
            redirect_uri: redirect_uri.clone(),
        };
        let auth_url = registered.provider.authorization_url(&request).map_err(OAuthSignInError::Provider)?;
        let now = self.clock.now();
        let pending = PendingAuthorization {
            provider: provider.to_owned(),
            code_verifier,
            nonce,
            redirect_uri,
            client_binding: self.hasher.binding_hash(&client_binding),
            expires_at: now + self.state_lifetime,
        };
        self.states.put(&self.hasher.state_hash(&state), &pending, now).await?;
        tracing::info!("provider sign-in started");
        Ok(OAuthStart { provider: provider.to_owned(), auth_url, state, client_binding })
    }

    /// Completes a sign-in with `provider`: consumes the state (whatever happens next, it
    /// never works again), checks it was issued for this provider and redirect URI, is
    /// still fresh and is presented with the client binding `start` gave, exchanges the code with the PKCE verifier, and signs in the
    /// account of the identity the provider vouches for.
    ///
    /// The identity is keyed by (provider, subject). A known identity signs in its
    /// account. A new one whose verified address matches an account is linked to it
    /// only if that account's address is verified ([`OAuthSignInError::AccountExists`]
    /// otherwise); with no such account, an account is created with the address
    /// verified and no password.
    ///
    /// # Errors
    /// [`OAuthSignInError::UnknownProvider`], [`OAuthSignInError::ProviderNotConfigured`],
    /// [`OAuthSignInError::AuthorizationCode`] for a malformed code,
    /// [`OAuthSignInError::StateInvalid`], [`OAuthSignInError::StateExpired`],
    /// [`OAuthSignInError::StateProviderMismatch`], [`OAuthSignInError::RedirectUriMismatch`],
    /// [`OAuthSignInError::ClientBindingMissing`], [`OAuthSignInError::ClientBindingMismatch`],
    /// [`OAuthSignInError::Provider`] when the provider refuses or fails,
    /// [`OAuthSignInError::AccountExists`], [`OAuthSignInError::AccountDisabled`],
    /// [`OAuthSignInError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all, fields(provider = provider))]
    pub async fn callback(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        redirect_uri: Option<&str>,
        client_binding: Option<&str>,
        client: &ClientContext,
    ) -> Result<SignedIn, OAuthSignInError> {
        let provider = self.providers.supported(provider)?;
        self.throttle.check(Action::OAuthCallback, client, None).await?;
        let registered = self.providers.get(provider)?;
        check_authorization_code(code).map_err(OAuthSignInError::AuthorizationCode)?;
        if !is_well_formed_state(state) {
            return Err(OAuthSignInError::StateInvalid);
        }
        let pending =
            self.states.take(&self.hasher.state_hash(state)).await?.ok_or(OAuthSignInError::StateInvalid)?;
        let now = self.clock.now();
        if pending.expires_at <= now {
            return Err(OAuthSignInError::StateExpired);
        }
        if pending.provider != provider {
            tracing::warn!(issued_for = %pending.provider, "state presented to another provider");
            return Err(OAuthSignInError::StateProviderMismatch);
        }
        if redirect_uri.is_some_and(|uri| uri != pending.redirect_uri) {
            return Err(OAuthSignInError::RedirectUriMismatch);
        }
        let presented = client_binding.ok_or(OAuthSignInError::ClientBindingMissing)?;
        if !self.hasher.binding_hash(presented).ct_eq(&pending.client_binding) {
            tracing::warn!("provider callback presented with another client's binding");
            return Err(OAuthSignInError::ClientBindingMismatch);
        }
        let exchange = CodeExchange {
            code: code.to_owned(),
            code_verifier: pending.code_verifier,
            nonce: pending.nonce,
            redirect_uri: pending.redirect_uri,
        };
        let identity = registered.provider.exchange(&exchange).await.map_err(|error| {
            tracing::info!(error = %error, "provider refused the sign-in");
            OAuthSignInError::Provider(error)
        })?;
        if identity.provider != provider {
            return Err(Failure::internal(format!(
                "the {provider} adapter answered an identity of {}",
                identity.provider
            ))
            .into());
        }
        let user = self.account_for_identity(&identity).await?;
        let method = AuthMethod::oauth(provider).map_err(|error| Failure::internal(error.to_string()))?;
        let now = self.clock.now();
        let device = self.devices.recognise(client, Some(&user)).await?;
        let on = OnDevice {
            devices: &self.devices,
            client,
            recognised: device.as_ref(),
            code_checked: false,
            standing: None,
        };
        Ok(self.issuer.start_on_device(user, vec![method], on, now).await?)
    }

    /// The account `identity` signs in to, linking or creating it as the rules say.
    async fn account_for_identity(&self, identity: &ProviderIdentity) -> Result<User, OAuthSignInError> {
        if let Some(user) = self.linked_account(identity).await? {
            return Ok(user);
        }
        let now = self.clock.now();
        let user = match self.users.find_by_email(&identity.email).await? {
            Some(existing) => existing,
            None => self.create_provider_user(identity).await?,
        };
        if !user.is_verified() {
            tracing::info!(user_id = %user.id, "provider address matches an unverified account; not linked");
            return Err(OAuthSignInError::AccountExists);
        }
        if user.disabled {
            return Err(OAuthSignInError::AccountDisabled);
        }
        let link = LinkedIdentity {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            user_id: user.id,
            email: identity.email.clone(),
            linked_at: now,
        };
        match self.identities.link(&link).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "provider identity linked");
                let linked = AuthEventKind::IdentityLinked { provider: identity.provider.clone() };
                self.events.emit(user.id, linked).await;
                Ok(user)
            }
            // A concurrent callback of the same identity linked it first: use its link.
            Err(PortError::IdentityTaken) => self
                .linked_account(identity)
                .await?
                .ok_or_else(|| Failure::internal("identity vanished after a conflict").into()),
            // The account was deleted since it was read: as unusable as a disabled one.
            Err(PortError::AccountGone) => Err(OAuthSignInError::AccountDisabled),
            Err(other) => Err(other.into()),
        }
    }

    /// The account a known identity is linked to.
    async fn linked_account(&self, identity: &ProviderIdentity) -> Result<Option<User>, OAuthSignInError> {
        let Some(link) = self.identities.find(&identity.provider, &identity.subject).await? else {
            return Ok(None);
        };
        match self.users.find_by_id(link.user_id).await? {
            Some(user) => Ok(Some(user)),
            None => {
                Err(Failure::internal(format!("identity linked to missing account {}", link.user_id)).into())
            }
        }
    }

    /// Creates the account of a first provider sign-in; if a concurrent request created
    /// an account with the address first, returns that one (the caller then applies the
    /// linking rules to it).
    async fn create_provider_user(&self, identity: &ProviderIdentity) -> Result<User, OAuthSignInError> {
        let user = User::new_from_provider(identity.email.clone(), self.clock.now());
        match self.users.create(&user).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "account created by provider sign-in");
                if let Ok(method) = AuthMethod::oauth(&identity.provider) {
                    self.events.emit(user.id, AuthEventKind::UserCreated { method }).await;
                }
                Ok(user)
            }
            Err(PortError::EmailTaken) => self
                .users
                .find_by_email(&identity.email)
                .await?
                .ok_or_else(|| Failure::internal("account vanished after a conflict").into()),
            Err(other) => Err(other.into()),
        }
    }
}
