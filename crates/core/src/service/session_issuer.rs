//! Opening a session and signing its tokens: the last step of every sign-in flow, a
//! small value the sign-in and OAuth services hold.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::Revocations;
use super::admin::roles::effective_role;
use super::devices::RememberedDevices;
use super::events::Events;
use crate::crypto::{AccessTokens, KeyedHasher, RefreshToken, TokenSubject};
use crate::domain::{
    AuthEventKind, AuthMethod, ClientContext, Device, EmailAddress, RevokedBy, Session, SessionId, User,
};
use crate::error::Failure;
use crate::error::PortError;
use crate::policy::{AuthPolicy, SessionLifetime};
use crate::ports::{ClientStanding, OpenedOnDevice, SessionRepository};

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
    /// The device token of a sign-in (none on a refresh): the client keeps it and
    /// sends it back as `X-Device-Token`.
    pub device_token: Option<String>,
}

/// A session built and not yet stored, with its refresh token: what
/// [`SessionIssuer::prepare`] returns and [`SessionIssuer::sign`] takes once the session
/// is stored.
#[derive(Debug)]
pub struct PreparedSession {
    /// The session to store.
    pub session: Session,
    refresh: RefreshToken,
}

/// The device side of [`SessionIssuer::start_on_device`]: the client, the device it
/// was recognised by, whether the sign-in passed a code check, and the client's
/// standing when the caller has just read it ([`super::devices::CodeCheck::standing`]).
#[derive(Debug, Clone, Copy)]
pub struct OnDevice<'a> {
    /// The remembered devices of the deployment.
    pub devices: &'a RememberedDevices,
    /// The client signing in.
    pub client: &'a ClientContext,
    /// The device the client was recognised by ([`RememberedDevices::recognise`]).
    pub recognised: Option<&'a Device>,
    /// Whether the sign-in passed a code check.
    pub code_checked: bool,
    /// The client's standing among the account's devices, if the caller read it
    /// already (see [`RememberedDevices::code_checked_recently`]).
    pub standing: Option<ClientStanding>,
}

/// Why no session was opened.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The account is disabled.
    #[error("account is disabled")]
    AccountDisabled,
    /// The account was deleted while the sign-in ran ([`PortError::AccountGone`]).
    #[error("the account no longer exists")]
    AccountGone,
    /// Storing the session or signing its token failed.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Opens sessions: stores the session with its refresh-token hash and signs an access
/// token for it.
#[derive(Debug, Clone)]
pub struct SessionIssuer {
    sessions: Arc<dyn SessionRepository>,
    tokens: AccessTokens,
    hasher: KeyedHasher,
    lifetime: SessionLifetime,
    admin_email: Option<EmailAddress>,
    events: Events,
    revocations: Revocations,
    limit: usize,
}

impl From<PortError> for StartError {
    fn from(error: PortError) -> Self {
        match error {
            PortError::AccountGone => Self::AccountGone,
            other => Self::Failure(other.into()),
        }
    }
}

impl SessionIssuer {
    /// Sessions stored in `sessions`, their access tokens signed by `tokens`, their
    /// refresh tokens hashed with `hasher`. From `policy`: how long sessions last, the
    /// administrator's address, and how many sessions an account keeps (at least one).
    /// Each session opened is published to `events` (`user.signed_in`); the sessions a
    /// sign-in pushes out are pushed to `revocations` and published as
    /// `session.revoked`.
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        tokens: AccessTokens,
        hasher: KeyedHasher,
        policy: &AuthPolicy,
        events: Events,
        revocations: Revocations,
    ) -> Self {
        Self {
            sessions,
            tokens,
            hasher,
            lifetime: policy.session_lifetime(),
            admin_email: policy.admin_email.clone(),
            events,
            revocations,
            limit: policy.max_sessions_per_user,
        }
    }

    /// Opens a session for `user`, who signed in by `auth_methods`, at `now` and signs
    /// its tokens: [`SessionIssuer::prepare`], stored, then [`SessionIssuer::sign`]. An
    /// account that the new session takes past its session limit ends its least
    /// recently used sessions in the same change
    /// ([`SessionRepository::create_within_limit`]); each ended session is pushed to
    /// the revocations and published as `session.revoked`.
    ///
    /// # Errors
    /// [`StartError::AccountDisabled`] for a disabled account;
    /// [`StartError::AccountGone`] when the account was deleted meanwhile; a storage
    /// or signing failure.
    pub async fn start(
        &self,
        user: User,
        auth_methods: Vec<AuthMethod>,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Result<SignedIn, StartError> {
        let prepared = self.prepare(&user, auth_methods, client, now)?;
        let ended = self.sessions.create_within_limit(&prepared.session, self.limit).await?;
        self.ended(&user, ended).await;
        self.sign(user, prepared, now).await
    }

    /// Opens a session as [`SessionIssuer::start`] does and records the sign-in's
    /// device as [`RememberedDevices::remember`] does, in one change where the session
    /// store can write both ([`SessionRepository::create_on_device`]), else one after
    /// the other. The answer carries the device token.
    ///
    /// # Errors
    /// As [`SessionIssuer::start`] and [`RememberedDevices::remember`].
    pub async fn start_on_device(
        &self,
        user: User,
        auth_methods: Vec<AuthMethod>,
        on: OnDevice<'_>,
        now: OffsetDateTime,
    ) -> Result<SignedIn, StartError> {
        let OnDevice { devices, client, recognised, code_checked, standing } = on;
        let prepared = self.prepare(&user, auth_methods, client, now)?;
        let plan = devices.plan(&user, client, recognised, now, code_checked, standing).await?;
        let change = devices.sign_in(&plan, now, code_checked);
        let recorded = match self.sessions.create_on_device(&prepared.session, self.limit, change).await? {
            Some(OpenedOnDevice { ended, device }) => {
                self.ended(&user, ended).await;
                device
            }
            None => {
                let ended = self.sessions.create_within_limit(&prepared.session, self.limit).await?;
                self.ended(&user, ended).await;
                devices.write(&plan, now, code_checked).await?
            }
        };
        let mut signed_in = self.sign(user, prepared, now).await?;
        let token = devices.finish(&signed_in.user, client, plan, recorded, now, code_checked).await?;
        signed_in.device_token = Some(token);
        Ok(signed_in)
    }

    /// Pushes each session a new one ended to the revocations and publishes it
    /// (`session.revoked`).
    async fn ended(&self, user: &User, ended: Vec<SessionId>) {
        for session_id in ended {
            self.revocations.session_ended(session_id).await;
            let kind = AuthEventKind::SessionRevoked { session_id: Some(session_id), by: RevokedBy::Limit };
            self.events.emit(user.id, kind).await;
            tracing::info!(user_id = %user.id, "session ended: the account is at its session limit");
        }
    }

    /// Builds a session for `user`, who signed in by `auth_methods`, at `now`, and its
    /// refresh token, without storing it: the caller stores
    /// [`PreparedSession::session`], then hands it to [`SessionIssuer::sign`].
    ///
    /// # Errors
    /// [`StartError::AccountDisabled`] for a disabled account.
    pub fn prepare(
        &self,
        user: &User,
        auth_methods: Vec<AuthMethod>,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Result<PreparedSession, StartError> {
        if user.disabled {
            return Err(StartError::AccountDisabled);
        }
        let id = SessionId::generate();
        let refresh = RefreshToken::generate(id);
        let session = Session {
            id,
            user_id: user.id,
            refresh_hash: refresh.hash(&self.hasher),
            created_at: now,
            last_used_at: now,
            expires_at: self.lifetime.expiry(now, now),
            revoked_at: None,
            ip: client.ip,
            user_agent: client.user_agent.clone(),
            auth_methods,
        };
        Ok(PreparedSession { session, refresh })
    }

    /// Signs the access token of a prepared session of `user` once it is stored, at
    /// `now`, and publishes the sign-in (`user.signed_in`).
    ///
    /// # Errors
    /// A signing failure.
    pub async fn sign(
        &self,
        user: User,
        prepared: PreparedSession,
        now: OffsetDateTime,
    ) -> Result<SignedIn, StartError> {
        let PreparedSession { session, refresh } = prepared;
        let subject = TokenSubject {
            user: &user,
            session_id: session.id,
            auth_methods: &session.auth_methods,
            role: effective_role(&user, self.admin_email.as_ref()),
        };
        let access_token = self.tokens.issue(subject, now).map_err(Failure::from)?;
        if let Some(method) = session.auth_methods.first().cloned() {
            self.events.emit(user.id, AuthEventKind::SignedIn { method, session_id: session.id }).await;
        }
        tracing::info!(user_id = %user.id, "session started");
        tracing::debug!(session_id = %session.id, "session started");
        Ok(SignedIn {
            user,
            session,
            access_token,
            expires_in: self.tokens.lifetime(),
            refresh_token: refresh.expose(),
            device_token: None,
        })
    }
}
