//! Opening a session and signing its tokens: the last step of every sign-in flow, a
//! small value the sign-in and OAuth services hold.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::crypto::{AccessTokens, KeyedHasher, RefreshToken};
use crate::domain::{ClientContext, Session, SessionId, User};
use crate::error::Failure;
use crate::ports::SessionRepository;

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

/// Why no session was opened.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The account is disabled.
    #[error("account is disabled")]
    AccountDisabled,
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
    refresh_lifetime: Duration,
}

impl SessionIssuer {
    /// Sessions stored in `sessions`, their access tokens signed by `tokens`, their
    /// refresh tokens hashed with `hasher` and valid for `refresh_lifetime`.
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        tokens: AccessTokens,
        hasher: KeyedHasher,
        refresh_lifetime: Duration,
    ) -> Self {
        Self { sessions, tokens, hasher, refresh_lifetime }
    }

    /// Opens a session for `user` at `now` and signs its tokens.
    ///
    /// # Errors
    /// [`StartError::AccountDisabled`] for a disabled account; a storage or signing
    /// failure.
    pub async fn start(
        &self,
        user: User,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Result<SignedIn, StartError> {
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
            expires_at: now + self.refresh_lifetime,
            revoked_at: None,
            ip: client.ip,
            user_agent: client.user_agent.clone(),
        };
        self.sessions.create(&session).await.map_err(Failure::from)?;
        let access_token = self.tokens.issue(user.id, id, now).map_err(Failure::from)?;
        tracing::info!(user_id = %user.id, "session started");
        tracing::debug!(session_id = %id, "session id");
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
