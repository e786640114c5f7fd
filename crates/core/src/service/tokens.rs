//! Access-token checks, refresh-token rotation, and logout.

use super::{Action, AuthService, Principal, SignedIn};
use crate::crypto::RefreshToken;
use crate::domain::ClientContext;
use crate::error::AuthError;
use crate::ports::RotateOutcome;

impl AuthService {
    /// Verifies an access token and that its session and account are still live.
    ///
    /// # Errors
    /// [`AuthError::TokenInvalid`] when the token is bad or expired, its session has
    /// ended, or its account is gone or disabled.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        let now = self.now();
        let claims = self.tokens.verify(access_token, now)?;
        let session = self.ports.sessions.find(claims.session_id).await?;
        if !session.is_some_and(|session| session.is_active(now) && session.user_id == claims.user_id) {
            return Err(AuthError::TokenInvalid("session has ended"));
        }
        match self.ports.users.find_by_id(claims.user_id).await? {
            Some(user) if !user.disabled => Ok(Principal { user, claims }),
            _ => Err(AuthError::TokenInvalid("account is no longer active")),
        }
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    /// Presenting a refresh token that was already rotated ends its whole session.
    ///
    /// # Errors
    /// [`AuthError::TokenInvalid`], [`AuthError::AccountDisabled`],
    /// [`AuthError::RateLimited`], or a port failure.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str, client: &ClientContext) -> Result<SignedIn, AuthError> {
        self.throttle(Action::Refresh, client, None).await?;
        let presented =
            RefreshToken::parse(refresh_token).ok_or(AuthError::TokenInvalid("refresh token is invalid"))?;
        let session_id = presented.session_id();
        let replacement = RefreshToken::generate(session_id);
        let now = self.now();
        let outcome = self
            .ports
            .sessions
            .rotate_refresh(
                session_id,
                &presented.hash(&self.hasher),
                &replacement.hash(&self.hasher),
                now,
                now + self.policy.refresh_token_ttl,
            )
            .await?;
        let session = match outcome {
            RotateOutcome::Rotated(session) => session,
            RotateOutcome::ReuseDetected => {
                tracing::warn!(%session_id, "refresh token reused; session revoked");
                return Err(AuthError::TokenInvalid(
                    "refresh token was already used; the session has been ended",
                ));
            }
            RotateOutcome::Inactive => {
                return Err(AuthError::TokenInvalid("refresh token is invalid or expired"));
            }
        };
        let user = match self.ports.users.find_by_id(session.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => {
                self.ports.sessions.revoke(session_id, now).await?;
                return Err(AuthError::TokenInvalid("account is no longer active"));
            }
        };
        let access_token = self.tokens.issue(user.id, session_id, now)?;
        Ok(SignedIn {
            user,
            session,
            access_token,
            expires_in: self.tokens.lifetime(),
            refresh_token: replacement.expose(),
        })
    }

    /// Ends the caller's session: its access and refresh tokens stop working.
    ///
    /// # Errors
    /// A port failure.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        self.ports.sessions.revoke(principal.session_id(), self.now()).await?;
        tracing::info!(user_id = %principal.user.id, session_id = %principal.session_id(), "logged out");
        Ok(())
    }
}
