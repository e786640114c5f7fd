//! Registration with email and password; the address is then verified by code.

use super::{SignInError, SignInService, registration_code};
use crate::domain::{ClientContext, CodePurpose, EmailAddress, MailKind, MailMessage, Password, User};
use crate::error::{Failure, PortError};
use crate::service::throttle::Action;

impl SignInService {
    /// Registers `email` with `password` and emails a code that verifies it.
    ///
    /// The outcome is the same for every address, so registration cannot be used to
    /// learn which addresses have accounts:
    /// - a new address gets an unverified account and a registration code;
    /// - an address whose account is still unverified gets the new password and a
    ///   new code (the latest registration wins);
    /// - a verified account is left unchanged and its owner is sent a notice instead
    ///   of a code. A code is still issued (and never sent), so cooldowns and attempt
    ///   counting behave exactly as for a new address.
    ///
    /// The password is hashed in every case, so the work done is the same too.
    ///
    /// # Errors
    /// [`SignInError::PasswordTooWeak`] (for every address alike),
    /// [`SignInError::RateLimited`], [`SignInError::Cooldown`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        email: &EmailAddress,
        password: Password,
        client: &ClientContext,
    ) -> Result<(), SignInError> {
        self.throttle.check(Action::Register, client, Some(email)).await?;
        let password = self.strong_password(password, email).await?;
        let hash = self.passwords.hash(password).await.map_err(Failure::from)?;
        let code = self.codes.issue(CodePurpose::SignIn, email).await?;
        let now = self.clock.now();
        let existing = match self.users.find_by_email(email).await? {
            Some(user) => Some(user),
            None => {
                let user = User::new_unverified(email.clone(), Some(hash.clone()), now);
                match self.users.create(&user).await {
                    Ok(()) => {
                        tracing::info!(user_id = %user.id, "account registered");
                        None
                    }
                    Err(PortError::EmailTaken) => self.users.find_by_email(email).await?,
                    Err(other) => return Err(other.into()),
                }
            }
        };
        match existing {
            Some(user) if user.is_verified() => {
                tracing::info!(user_id = %user.id, "registration attempted for an existing account");
                self.deliver(MailMessage { to: email.clone(), kind: MailKind::AccountExists }).await
            }
            Some(user) => {
                self.users.set_password(user.id, Some(&hash), now).await?;
                self.deliver(self.code_mail(email, code, registration_code)).await
            }
            None => self.deliver(self.code_mail(email, code, registration_code)).await,
        }
    }
}
