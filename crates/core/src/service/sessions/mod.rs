//! Sessions: checking access tokens, rotating refresh tokens, logout, and the
//! caller's own sessions.

mod cache;
mod error;

use std::sync::Arc;

pub use cache::{ReadTicket, TokenCache};
pub use error::SessionError;

use super::SignedIn;
use super::admin::roles::effective_role;
use super::events::Events;
use super::throttle::{Action, Throttle};
use crate::crypto::{
    AccessClaims, AccessTokens, CredentialId, KeyedHasher, RefreshToken, ServiceCredentials, TokenSubject,
};
use crate::domain::{
    AuthEventKind, ClientContext, Device, DeviceId, EmailAddress, Locale, RevokedBy, Session, SessionId, User,
};
use crate::error::Failure;
use crate::policy::{AuthPolicy, PolicyError, SessionLifetime};
use crate::ports::{
    Clock, DeviceRepository, EventPublisher, RateLimiter, RotateOutcome, SessionRepository, UserRepository,
};
use crate::service::{Revocations, Secrets};

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

/// What [`SessionService::introspect`] found out about a token (RFC 7662).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// The token verifies, has not expired, its session is live and its account
    /// enabled: its claims, as signed.
    Active(AccessClaims),
    /// Anything else: malformed, forged, expired, of an ended session or of a disabled
    /// or deleted account. Which of these is not said.
    Inactive,
}

/// A back-end service whose credential [`SessionService::authorize_service`] accepted.
#[derive(Debug, Clone)]
pub struct ServiceCaller {
    credential: CredentialId,
}

/// The ports the session service runs on.
#[derive(Debug, Clone)]
pub struct SessionPorts {
    /// Sessions and refresh-token hashes.
    pub sessions: Arc<dyn SessionRepository>,
    /// Accounts (a token of a disabled or deleted account is refused).
    pub users: Arc<dyn UserRepository>,
    /// Remembered devices, listed and forgotten with the sessions.
    pub devices: Arc<dyn DeviceRepository>,
    /// Rate limits (refresh).
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ended sessions, told to every instance; its cache serves token checks.
    pub revocations: Revocations,
    /// Auth events (`user.signed_out`, `session.revoked`).
    pub events: Arc<dyn EventPublisher>,
}

/// Access-token checks, refresh-token rotation, logout and the caller's sessions.
#[derive(Debug, Clone)]
pub struct SessionService {
    sessions: Arc<dyn SessionRepository>,
    users: Arc<dyn UserRepository>,
    devices: Arc<dyn DeviceRepository>,
    clock: Arc<dyn Clock>,
    revocations: Revocations,
    throttle: Throttle,
    tokens: AccessTokens,
    hasher: KeyedHasher,
    lifetime: SessionLifetime,
    admin_email: Option<EmailAddress>,
    service_credentials: ServiceCredentials,
    events: Events,
}

impl SessionService {
    /// The service on `ports`, verifying and signing with `secrets`, under `policy`.
    ///
    /// # Errors
    /// [`PolicyError`] when the policy is out of range.
    pub fn new(ports: SessionPorts, secrets: &Secrets, policy: &AuthPolicy) -> Result<Self, PolicyError> {
        policy.validate()?;
        let hasher = secrets.keyed_hasher.clone();
        Ok(Self {
            throttle: Throttle::new(ports.rate_limiter, ports.clock.clone(), hasher.clone(), policy),
            events: Events::new(ports.events, ports.clock.clone()),
            tokens: secrets.access_tokens(policy),
            sessions: ports.sessions,
            users: ports.users,
            devices: ports.devices,
            clock: ports.clock,
            revocations: ports.revocations,
            hasher,
            lifetime: policy.session_lifetime(),
            admin_email: policy.admin_email.clone(),
            service_credentials: secrets.service_credentials.clone(),
        })
    }

    /// The access tokens this service verifies (their keys, issuer and audience).
    pub fn access_tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// Verifies an access token and that its session and account are still live.
    ///
    /// The signature check, the session and the account are served from the token
    /// cache when it holds them and trusts them (see [`TokenCache`]); what it lacks is
    /// read from storage and cached.
    ///
    /// # Errors
    /// [`SessionError::AccessTokenInvalid`], [`SessionError::AccessTokenExpired`],
    /// [`SessionError::SessionEnded`], [`SessionError::AccountInactive`], or a failure.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, SessionError> {
        let now = self.clock.now();
        let cache = self.revocations.cache();
        let claims = cache.verified(access_token, now, || self.tokens.verify(access_token, now))?;
        // Only a live answer is taken from the cache: a session it believes over may
        // have been extended by a refresh since.
        let cached = cache.session(claims.session_id, claims.user_id, now).filter(|ends_at| now < *ends_at);
        let ends_at = match cached {
            Some(ends_at) => ends_at,
            None => {
                let ticket = cache.ticket();
                let session = self.sessions.find(claims.session_id).await?;
                let Some(session) = session
                    .filter(|session| session.revoked_at.is_none() && session.user_id == claims.user_id)
                else {
                    return Err(SessionError::SessionEnded);
                };
                let ends_at = session.expires_at.min(self.lifetime.end(session.created_at));
                cache.remember_session(ticket, session.id, session.user_id, ends_at, now);
                ends_at
            }
        };
        if now >= ends_at {
            return Err(SessionError::SessionEnded);
        }
        if let Some(user) = cache.user(claims.user_id, now) {
            return Ok(Principal { user, claims });
        }
        let ticket = cache.ticket();
        match self.users.find_by_id(claims.user_id).await? {
            Some(user) if !user.disabled => {
                cache.remember_user(ticket, &user, now);
                Ok(Principal { user, claims })
            }
            _ => Err(SessionError::AccountInactive),
        }
    }

    /// Checks the credential a back-end service presents to introspect tokens, and
    /// counts one introspection against its budget.
    ///
    /// # Errors
    /// [`SessionError::ServiceCredentialInvalid`] for a credential that is not
    /// configured, [`SessionError::RateLimited`] when its budget is spent, or a failure.
    pub async fn authorize_service(&self, credential: &str) -> Result<ServiceCaller, SessionError> {
        let Some(credential) = self.service_credentials.identify(credential) else {
            tracing::info!("introspection refused: unknown service credential");
            return Err(SessionError::ServiceCredentialInvalid);
        };
        self.throttle.check_service(Action::Introspect, &credential).await?;
        Ok(ServiceCaller { credential })
    }

    /// Token introspection for back-end services (RFC 7662): whether `access_token` is
    /// live right now. The token is checked exactly as [`Self::authenticate`] checks it.
    ///
    /// # Errors
    /// A failure (a token that does not check out is [`Introspection::Inactive`], not
    /// an error).
    #[tracing::instrument(skip_all, fields(credential = %caller.credential))]
    pub async fn introspect(
        &self,
        caller: &ServiceCaller,
        access_token: &str,
    ) -> Result<Introspection, SessionError> {
        match self.authenticate(access_token).await {
            Ok(principal) => Ok(Introspection::Active(principal.claims)),
            Err(
                SessionError::AccessTokenInvalid
                | SessionError::AccessTokenExpired
                | SessionError::SessionEnded
                | SessionError::AccountInactive,
            ) => Ok(Introspection::Inactive),
            Err(other) => Err(other),
        }
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    /// Presenting a refresh token that was already rotated ends its whole session; one
    /// whose secret never belonged to the session is refused and changes nothing.
    ///
    /// # Errors
    /// [`SessionError::RefreshTokenMalformed`], [`SessionError::RefreshTokenInactive`],
    /// [`SessionError::RefreshTokenUnrecognised`], [`SessionError::RefreshTokenReused`],
    /// [`SessionError::SessionLifetimeOver`], [`SessionError::AccountInactive`],
    /// [`SessionError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: &ClientContext,
    ) -> Result<SignedIn, SessionError> {
        self.throttle.check(Action::Refresh, client, None).await?;
        let presented = RefreshToken::parse(refresh_token).ok_or(SessionError::RefreshTokenMalformed)?;
        let session_id = presented.session_id();
        let now = self.clock.now();
        // The start of a session never changes, so reading it before the atomic
        // rotation is safe.
        let Some(current) =
            self.sessions.find(session_id).await?.filter(|session| session.revoked_at.is_none())
        else {
            return Err(SessionError::RefreshTokenInactive);
        };
        if now >= self.lifetime.end(current.created_at) {
            return Err(SessionError::SessionLifetimeOver);
        }
        let replacement = RefreshToken::generate(session_id);
        let outcome = self
            .sessions
            .rotate_refresh(
                session_id,
                &presented.hash(&self.hasher),
                &replacement.hash(&self.hasher),
                now,
                self.lifetime.expiry(current.created_at, now),
            )
            .await?;
        let session = match outcome {
            RotateOutcome::Rotated(session) => session,
            RotateOutcome::ReuseDetected => {
                self.revocations.session_ended(session_id).await;
                tracing::warn!("a rotated refresh token was presented again; its session was revoked");
                tracing::debug!(%session_id, "session revoked for refresh-token reuse");
                return Err(SessionError::RefreshTokenReused);
            }
            RotateOutcome::Unrecognised => return Err(SessionError::RefreshTokenUnrecognised),
            RotateOutcome::Inactive => return Err(SessionError::RefreshTokenInactive),
        };
        let user = match self.users.find_by_id(session.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => {
                self.sessions.revoke(session_id, now).await?;
                self.revocations.session_ended(session_id).await;
                return Err(SessionError::AccountInactive);
            }
        };
        let subject = TokenSubject {
            user: &user,
            session_id,
            auth_methods: &session.auth_methods,
            role: effective_role(&user, self.admin_email.as_ref()),
        };
        let access_token = self.tokens.issue(subject, now).map_err(Failure::from)?;
        Ok(SignedIn {
            user,
            session,
            access_token,
            expires_in: self.tokens.lifetime(),
            refresh_token: replacement.expose(),
            device_token: None,
        })
    }

    /// Ends the caller's session: its access and refresh tokens stop working.
    ///
    /// # Errors
    /// A failure.
    pub async fn logout(&self, principal: &Principal) -> Result<(), SessionError> {
        let session_id = principal.session_id();
        if self.sessions.revoke(session_id, self.clock.now()).await? {
            self.events.emit(principal.user.id, AuthEventKind::SignedOut { session_id }).await;
        }
        self.revocations.session_ended(session_id).await;
        tracing::info!(user_id = %principal.user.id, "logged out");
        tracing::debug!(session_id = %principal.session_id(), "session ended by logout");
        Ok(())
    }

    /// Stores the language the caller chose for mail and the page (`None`: follow each
    /// request's `Accept-Language` again), and returns the updated account.
    ///
    /// # Errors
    /// [`SessionError::AccountInactive`] when the account is gone; a failure.
    pub async fn set_locale(
        &self,
        principal: &Principal,
        locale: Option<Locale>,
    ) -> Result<User, SessionError> {
        let updated = self.users.set_locale(principal.user.id, locale.as_ref(), self.clock.now()).await?;
        let user = updated.ok_or(SessionError::AccountInactive)?;
        // Token checks serve the account from the cache: every instance reads it again.
        self.revocations.account_changed(user.id).await;
        tracing::info!(user_id = %user.id, locale = ?user.locale.as_ref().map(Locale::as_str), "language chosen");
        Ok(user)
    }

    /// The caller's active sessions, newest first.
    ///
    /// # Errors
    /// A failure.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<Session>, SessionError> {
        Ok(self.sessions.list_active(principal.user.id, self.clock.now()).await?)
    }

    /// Ends one of the caller's sessions.
    ///
    /// # Errors
    /// [`SessionError::SessionNotFound`] when the session is not an active one of the
    /// caller's; a failure.
    pub async fn end(&self, principal: &Principal, id: SessionId) -> Result<(), SessionError> {
        let now = self.clock.now();
        let owned = self
            .sessions
            .find(id)
            .await?
            .is_some_and(|session| session.user_id == principal.user.id && session.is_active(now));
        if !owned || !self.sessions.revoke(id, now).await? {
            return Err(SessionError::SessionNotFound);
        }
        self.revocations.session_ended(id).await;
        let revoked = AuthEventKind::SessionRevoked { session_id: Some(id), by: RevokedBy::User };
        self.events.emit(principal.user.id, revoked).await;
        tracing::info!(user_id = %principal.user.id, "session ended by its owner");
        tracing::debug!(session_id = %id, "session ended by its owner");
        Ok(())
    }

    /// The caller's remembered devices, newest first.
    ///
    /// # Errors
    /// A failure.
    pub async fn devices(&self, principal: &Principal) -> Result<Vec<Device>, SessionError> {
        Ok(self.devices.list_active(principal.user.id).await?)
    }

    /// Forgets one of the caller's devices: its token no longer tells it apart from a
    /// stranger's (its own budgets and code re-check window are gone).
    ///
    /// # Errors
    /// [`SessionError::DeviceNotFound`] when the device is not an active one of the
    /// caller's; a failure.
    pub async fn forget_device(&self, principal: &Principal, id: DeviceId) -> Result<(), SessionError> {
        if !self.devices.revoke(principal.user.id, id, self.clock.now()).await? {
            return Err(SessionError::DeviceNotFound);
        }
        tracing::info!(user_id = %principal.user.id, device_id = %id, "device forgotten by its owner");
        Ok(())
    }
}
