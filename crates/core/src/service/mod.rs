//! The use cases: one `AuthService` whose methods are the flows, split by file.

pub mod admin;
mod codes;
pub mod login;
pub mod oauth;
mod password_reset;
mod passwordless;
mod registration;
mod sessions;
mod throttle;
mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

pub use oauth::{OAuthProviders, OAuthStart};
pub use throttle::Action;

use crate::crypto::{AccessClaims, AccessTokens, KeyedHasher, Keyring, PasswordHasher, RefreshToken};
use crate::domain::{ClientContext, Session, SessionId, User};
use crate::error::{AuthError, ValidationError};
use crate::policy::AuthPolicy;
use crate::ports::{
    AuditLog, Clock, CodeStore, IdentityRepository, Mailer, OAuthStateStore, RateLimiter, SessionRepository,
    UserRepository,
};

/// The adapters the service runs on.
#[derive(Debug, Clone)]
pub struct Ports {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh-token hashes.
    pub sessions: Arc<dyn SessionRepository>,
    /// Provider identities linked to accounts.
    pub identities: Arc<dyn IdentityRepository>,
    /// Provider sign-ins started and not yet completed.
    pub oauth_states: Arc<dyn OAuthStateStore>,
    /// One-time codes.
    pub codes: Arc<dyn CodeStore>,
    /// Rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// What administrators did.
    pub audit_log: Arc<dyn AuditLog>,
    /// Outgoing mail.
    pub mailer: Arc<dyn Mailer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The secrets the service signs and hashes with.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// The server secret (`SECRET_KEY`) for keyed hashes.
    pub keyed_hasher: KeyedHasher,
    /// Argon2id, bounded.
    pub password_hasher: PasswordHasher,
    /// Access-token signing and verification keys.
    pub keyring: Keyring,
}

/// A new session and the tokens that carry it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account signed in.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// PASETO v4.public access token.
    pub access_token: String,
    /// Access-token lifetime.
    pub expires_in: Duration,
    /// Opaque refresh token; shown to the client once, stored only hashed.
    pub refresh_token: String,
}

/// A verified caller: a live session of an enabled account.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account.
    pub user: User,
    /// The claims of the access token presented.
    pub claims: AccessClaims,
}

impl Principal {
    /// The caller's session.
    pub fn session_id(&self) -> SessionId {
        self.claims.session_id
    }
}

/// The email one-time-code authentication use cases.
pub struct AuthService {
    ports: Ports,
    hasher: KeyedHasher,
    passwords: PasswordHasher,
    tokens: AccessTokens,
    policy: AuthPolicy,
    oauth: OAuthProviders,
}

impl AuthService {
    /// Builds the service after checking `policy`.
    ///
    /// # Errors
    /// [`ValidationError`] when the policy is out of range.
    pub fn new(ports: Ports, secrets: Secrets, policy: AuthPolicy) -> Result<Self, ValidationError> {
        policy.validate()?;
        let tokens = AccessTokens::new(
            secrets.keyring,
            policy.token_issuer.clone(),
            policy.token_audience.clone(),
            policy.access_token_ttl,
        );
        Ok(Self {
            ports,
            hasher: secrets.keyed_hasher,
            passwords: secrets.password_hasher,
            tokens,
            policy,
            oauth: OAuthProviders::default(),
        })
    }

    /// The same service, signing in with `providers` too (none by default).
    #[must_use]
    pub fn with_oauth_providers(mut self, providers: OAuthProviders) -> Self {
        self.oauth = providers;
        self
    }

    /// The rules in force.
    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }

    /// The keys that verify access tokens, current first.
    pub fn keyring(&self) -> &Keyring {
        self.tokens.keyring()
    }

    fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// Opens a session for `user` and signs its tokens.
    async fn start_session(
        &self,
        user: User,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Result<SignedIn, AuthError> {
        if user.disabled {
            return Err(AuthError::AccountDisabled);
        }
        let id = SessionId::generate();
        let refresh = RefreshToken::generate(id);
        let session = Session {
            id,
            user_id: user.id,
            refresh_hash: refresh.hash(&self.hasher),
            created_at: now,
            last_used_at: now,
            expires_at: now + self.policy.refresh_token_ttl,
            revoked_at: None,
            ip: client.ip,
            user_agent: client.user_agent.clone(),
        };
        self.ports.sessions.create(&session).await?;
        let access_token = self.tokens.issue(user.id, id, now)?;
        tracing::info!(user_id = %user.id, session_id = %id, "session started");
        Ok(SignedIn {
            user,
            session,
            access_token,
            expires_in: self.tokens.lifetime(),
            refresh_token: refresh.expose(),
        })
    }
}

impl fmt::Debug for AuthService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("ports", &self.ports)
            .field("policy", &self.policy)
            .field("oauth", &self.oauth)
            .finish_non_exhaustive()
    }
}
