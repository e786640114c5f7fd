//! Registration with email and password; the address is then verified by code.

use super::codes::registration;
use super::{Action, AuthService};
use crate::domain::{ClientContext, EmailAddress, MailKind, MailMessage, Password, User};
use crate::error::{AuthError, PortError};
use crate::ports::CodePurpose;

impl AuthService {
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
    /// [`AuthError::RateLimited`], [`AuthError::OtpCooldown`], or a port failure.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        email: &EmailAddress,
        password: Password,
        client: &ClientContext,
    ) -> Result<(), AuthError> {
        self.throttle(Action::Register, client, Some(email)).await?;
        let hash = self.passwords.hash(password).await?;
        let code = self.issue_code(CodePurpose::SignIn, email).await?;
        let now = self.now();
        let existing = match self.ports.users.find_by_email(email).await? {
            Some(user) => Some(user),
            None => {
                let user = User::new_unverified(email.clone(), Some(hash.clone()), now);
                match self.ports.users.create(&user).await {
                    Ok(()) => {
                        tracing::info!(user_id = %user.id, "account registered");
                        None
                    }
                    Err(PortError::EmailTaken) => self.ports.users.find_by_email(email).await?,
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
                self.ports.users.set_password(user.id, Some(&hash), now).await?;
                self.deliver(self.code_mail(email, code, registration)).await
            }
            None => self.deliver(self.code_mail(email, code, registration)).await,
        }
    }
}
