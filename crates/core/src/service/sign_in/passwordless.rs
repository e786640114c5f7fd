//! Passwordless sign-in: send a code, resend it, verify it.

use super::{SignInError, SignInService, registration_code, sign_in_code};
use crate::domain::{AuthMethod, ClientContext, CodePurpose, EmailAddress, OtpCode, User};
use crate::error::{Failure, PortError};
use crate::service::SignedIn;
use crate::service::throttle::Action;

impl SignInService {
    /// Emails a sign-in code to `email`, whether or not it has an account (the
    /// answer is the same either way).
    ///
    /// A code asked for by anyone but the client that registered the address drops the
    /// pending password of a registration that was never verified, so a stranger who
    /// registers someone else's address cannot keep a password on the account its owner
    /// then signs into with a code. The owner can set a password by reset.
    ///
    /// # Errors
    /// [`SignInError::RateLimited`], [`SignInError::Cooldown`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn send_code(&self, email: &EmailAddress, client: &ClientContext) -> Result<(), SignInError> {
        self.throttle.check(Action::SendCode, client, Some(email)).await?;
        let code = self.codes.issue(CodePurpose::SignIn, email).await?;
        if let Some(user) = self.users.find_by_email(email).await? {
            self.settle_pending_password(&user, client, self.clock.now()).await?;
        }
        self.deliver(self.code_mail(email, code, sign_in_code)).await
    }

    /// Emails a new code, replacing the previous one: a registration code when the
    /// client that registered the address asks, a sign-in code otherwise (another
    /// client's request drops the pending password, as [`SignInService::send_code`]).
    ///
    /// # Errors
    /// As [`SignInService::send_code`].
    #[tracing::instrument(skip_all)]
    pub async fn resend_code(&self, email: &EmailAddress, client: &ClientContext) -> Result<(), SignInError> {
        self.throttle.check(Action::ResendCode, client, Some(email)).await?;
        let code = self.codes.issue(CodePurpose::SignIn, email).await?;
        let pending_registration = match self.users.find_by_email(email).await? {
            Some(user) => self.settle_pending_password(&user, client, self.clock.now()).await?,
            None => false,
        };
        let kind = if pending_registration { registration_code } else { sign_in_code };
        self.deliver(self.code_mail(email, code, kind)).await
    }

    /// Checks a sign-in code and opens a session: creates the account on a first
    /// passwordless sign-in, verifies a pending registration, or completes a password
    /// log-in that asked for a code. A pending password is kept only when the client
    /// that registered it enters the code; anyone else gets the account without it.
    ///
    /// # Errors
    /// [`SignInError::CodeInvalid`], [`SignInError::CodeExpired`],
    /// [`SignInError::CodeAttemptsExceeded`], [`SignInError::AccountDisabled`],
    /// [`SignInError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn verify_code(
        &self,
        email: &EmailAddress,
        code: &OtpCode,
        client: &ClientContext,
    ) -> Result<SignedIn, SignInError> {
        self.throttle.check(Action::VerifyCode, client, Some(email)).await?;
        self.codes.check_code(CodePurpose::SignIn, email, code).await?;
        let now = self.clock.now();
        let user = match self.users.find_by_email(email).await? {
            Some(user) => user,
            None => self.create_verified_user(email).await?,
        };
        let registrant = self.registrant(&user, client, now);
        let user = self
            .users
            .record_code_sign_in(user.id, now, registrant.as_ref())
            .await?
            .ok_or(SignInError::CodeInvalid { attempts_remaining: None })?;
        Ok(self.issuer.start(user, vec![AuthMethod::Otp], client, now).await?)
    }

    /// Creates the account of a first passwordless sign-in; if a concurrent request
    /// created it first, returns that one.
    async fn create_verified_user(&self, email: &EmailAddress) -> Result<User, SignInError> {
        let user = User::new_verified(email.clone(), self.clock.now());
        match self.users.create(&user).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "account created by passwordless sign-in");
                Ok(user)
            }
            Err(PortError::EmailTaken) => self
                .users
                .find_by_email(email)
                .await?
                .ok_or_else(|| Failure::internal("account vanished after a conflict").into()),
            Err(other) => Err(other.into()),
        }
    }
}
