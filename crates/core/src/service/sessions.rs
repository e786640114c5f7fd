//! The caller's own sessions.

use super::{AuthService, Principal};
use crate::domain::{Session, SessionId};
use crate::error::AuthError;

impl AuthService {
    /// The caller's active sessions, newest first.
    ///
    /// # Errors
    /// A port failure.
    pub async fn list_sessions(&self, principal: &Principal) -> Result<Vec<Session>, AuthError> {
        Ok(self.ports.sessions.list_active(principal.user.id, self.now()).await?)
    }

    /// Ends one of the caller's sessions.
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when the session is not an active one of the caller's.
    pub async fn end_session(&self, principal: &Principal, id: SessionId) -> Result<(), AuthError> {
        let now = self.now();
        let owned = self
            .ports
            .sessions
            .find(id)
            .await?
            .is_some_and(|session| session.user_id == principal.user.id && session.is_active(now));
        if !owned || !self.ports.sessions.revoke(id, now).await? {
            return Err(AuthError::NotFound("session"));
        }
        tracing::info!(user_id = %principal.user.id, session_id = %id, "session ended by its owner");
        Ok(())
    }
}
