//! Password reset by emailed code.

use super::{SignInError, SignInService, password_reset_code};
use crate::domain::{
    AuthEventKind, ClientContext, CodePurpose, EmailAddress, MailKind, MailMessage, OtpCode, Password,
};
use crate::service::throttle::Action;

impl SignInService {
    /// Emails a reset code to `email` if it has an account, and a "no account" notice
    /// otherwise. A code is issued either way (and only sent to real accounts), and one
    /// message is queued either way, so the answer, the cooldown, the work done and the
    /// counters moved are the same for every address.
    ///
    /// # Errors
    /// [`SignInError::MailBacklog`], [`SignInError::RateLimited`],
    /// [`SignInError::Cooldown`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn forgot_password(
        &self,
        email: &EmailAddress,
        client: &ClientContext,
    ) -> Result<(), SignInError> {
        let sender = self.mail_sender(client);
        self.admit_mail(&sender)?;
        self.throttle.check(Action::ForgotPassword, client, Some(email)).await?;
        let code = self.codes.issue(CodePurpose::PasswordReset, email).await?;
        let user = self.users.find_by_email(email).await?;
        let message = if user.is_some() {
            self.code_mail(email, code, password_reset_code)
        } else {
            MailMessage::new(email.clone(), MailKind::PasswordResetNoAccount)
        };
        self.deliver(message, user.as_ref(), client).await
    }

    /// Sets a new password with a reset code, marks the address verified (the code
    /// proves it), and ends every session of the account.
    ///
    /// # Errors
    /// [`SignInError::PasswordTooWeak`], the code errors of
    /// [`SignInService::verify_code`], [`SignInError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        &self,
        email: &EmailAddress,
        code: &OtpCode,
        new_password: Password,
        client: &ClientContext,
    ) -> Result<(), SignInError> {
        // A full queue refuses before anything is read or counted, as for a log-in.
        self.passwords.check_room()?;
        self.throttle.check(Action::ResetPassword, client, Some(email)).await?;
        // Before the code check, so a refused password does not use up the code.
        let new_password = self.strong_password(new_password, email).await?;
        // Room to hash, taken before the code check uses the code up: a full queue
        // refuses while the code is still good.
        let room = self.passwords.reserve()?;
        self.codes.check_code(CodePurpose::PasswordReset, email, code).await?;
        let user = self
            .users
            .find_by_email(email)
            .await?
            .ok_or(SignInError::CodeInvalid { attempts_remaining: None })?;
        let hash = room.hash(new_password).await?;
        let ended = self
            .users
            .reset_password(user.id, &hash, self.clock.now())
            .await?
            .ok_or(SignInError::CodeInvalid { attempts_remaining: None })?;
        self.revocations.account_changed(user.id).await;
        tracing::info!(user_id = %user.id, sessions_ended = ended, "password reset");
        self.events.emit(user.id, AuthEventKind::PasswordChanged).await;
        Ok(())
    }
}
