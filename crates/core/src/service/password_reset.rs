//! Password reset by emailed code.

use super::codes::password_reset;
use super::{Action, AuthService};
use crate::domain::{ClientContext, EmailAddress, OtpCode, Password};
use crate::error::AuthError;
use crate::ports::CodePurpose;

impl AuthService {
    /// Emails a reset code to `email` if it has an account. A code is issued either
    /// way (and only sent to real accounts), so the answer and the cooldown are the
    /// same for every address.
    ///
    /// # Errors
    /// [`AuthError::RateLimited`], [`AuthError::OtpCooldown`], or a port failure.
    #[tracing::instrument(skip_all)]
    pub async fn forgot_password(
        &self,
        email: &EmailAddress,
        client: &ClientContext,
    ) -> Result<(), AuthError> {
        self.throttle(Action::ForgotPassword, client, Some(email)).await?;
        let code = self.issue_code(CodePurpose::PasswordReset, email).await?;
        if self.ports.users.find_by_email(email).await?.is_some() {
            self.deliver(self.code_mail(email, code, password_reset)).await?;
        }
        Ok(())
    }

    /// Sets a new password with a reset code, marks the address verified (the code
    /// proves it), and ends every session of the account.
    ///
    /// # Errors
    /// The code errors of [`AuthService::verify_code`], [`AuthError::RateLimited`],
    /// or a port failure.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        &self,
        email: &EmailAddress,
        code: &OtpCode,
        new_password: Password,
        client: &ClientContext,
    ) -> Result<(), AuthError> {
        self.throttle(Action::ResetPassword, client, Some(email)).await?;
        self.check_code(CodePurpose::PasswordReset, email, code).await?;
        let user = self
            .ports
            .users
            .find_by_email(email)
            .await?
            .ok_or(AuthError::OtpInvalid { attempts_remaining: None })?;
        let hash = self.passwords.hash(new_password).await?;
        let now = self.now();
        self.ports.users.set_password(user.id, Some(&hash), now).await?;
        self.ports.users.record_code_verified(user.id, now).await?;
        let ended = self.ports.sessions.revoke_all_for_user(user.id, now).await?;
        tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
        Ok(())
    }
}
