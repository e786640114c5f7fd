//! Registration with email and password; the address is then verified by code, and
//! the password becomes usable only if the client that registered completes it.

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use super::{SignInError, SignInService, registration_code};
use crate::crypto::{TokenHash, random_secret};
use crate::domain::{
    ClientContext, CodePurpose, EmailAddress, MailKind, MailMessage, Password, RegistrationBinding, User,
};
use crate::error::{Failure, PortError};
use crate::service::devices::client_fingerprint;
use crate::service::throttle::Action;

/// The secret a registration answers with: sent back with the code steps
/// (`verify-otp`, `resend-otp`, `send-otp`), it tells the client that registered from
/// anyone else completing the address's verification. The same shape for every
/// address; it never prints.
pub struct RegistrationToken(SecretString);

impl RegistrationToken {
    /// The token text, to hand to the client once.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for RegistrationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistrationToken(***)")
    }
}

impl SignInService {
    /// Registers `email` with `password` and emails a code that verifies it.
    ///
    /// The outcome is the same for every address, so registration cannot be used to
    /// learn which addresses have accounts:
    /// - a new address gets an unverified account with a pending password and a
    ///   registration code;
    /// - an address whose account is still unverified gets the new pending password
    ///   and a new code (the latest registration wins);
    /// - a verified account is left unchanged and its owner is sent a notice instead
    ///   of a code. A code is still issued (and never sent), so cooldowns and attempt
    ///   counting behave exactly as for a new address.
    ///
    /// The pending password is bound to this client: it becomes usable only when the
    /// same client enters the code (it presents the returned token, or, within the
    /// code's lifetime, comes from the same network with the same user agent). Anyone
    /// else completing a code step for the address drops it.
    ///
    /// The password is hashed in every case, so the work done is the same too.
    ///
    /// # Errors
    /// [`SignInError::PasswordTooWeak`] (for every address alike),
    /// [`SignInError::MailBacklog`], [`SignInError::Busy`] (password hashing),
    /// [`SignInError::RateLimited`], [`SignInError::Cooldown`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        email: &EmailAddress,
        password: Password,
        client: &ClientContext,
    ) -> Result<RegistrationToken, SignInError> {
        let sender = self.mail_sender(client);
        self.admit_mail(&sender)?;
        // A full queue refuses before anything is read or counted, as for a log-in.
        self.passwords.check_room()?;
        self.throttle.check(Action::Register, client, Some(email)).await?;
        let password = self.strong_password(password, email).await?;
        let hash = self.passwords.hash(password).await?;
        let code = self.codes.issue(CodePurpose::SignIn, email).await?;
        let now = self.clock.now();
        let token = RegistrationToken(SecretString::from(random_secret()));
        let binding = RegistrationBinding {
            token_hash: self.hasher.registration_hash(token.expose()),
            client: self.fingerprint(client),
            expires_at: now + self.codes.lifetime(),
        };
        let existing = match self.users.find_by_email(email).await? {
            Some(user) => Some(user),
            None => {
                // The language asked for at registration becomes the account's.
                let user = User {
                    registration: Some(binding.clone()),
                    locale: client.locale.clone(),
                    ..User::new_unverified(email.clone(), Some(hash.clone()), now)
                };
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
                // Equal work: a new address costs an account insert, so this one tries
                // the same insert, which the unique address refuses (nothing changes).
                let decoy = User::new_unverified(email.clone(), Some(hash.clone()), now);
                match self.users.create(&decoy).await {
                    Err(PortError::EmailTaken) => {}
                    Err(other) => return Err(other.into()),
                    Ok(()) => {
                        return Err(Failure::internal("an address with an account was taken twice").into());
                    }
                }
                tracing::info!(user_id = %user.id, "registration attempted for an existing account");
                let notice = MailMessage::new(email.clone(), MailKind::AccountExists);
                self.deliver(notice, Some(&user), client).await?;
            }
            Some(user) => {
                self.users.register_password(user.id, &hash, &binding, now).await?;
                self.revocations.account_updated(user.id);
                self.deliver(self.code_mail(email, code, registration_code), Some(&user), client).await?;
            }
            None => self.deliver(self.code_mail(email, code, registration_code), None, client).await?,
        }
        Ok(token)
    }

    /// A keyed pseudonym of the client's network and user agent.
    pub(super) fn fingerprint(&self, client: &ClientContext) -> String {
        client_fingerprint(&self.hasher, client)
    }

    /// The registration binding's token hash when `client` is the one that registered
    /// `user`'s pending password: it presents the registration token, or, before the
    /// binding expires, has the same network and user agent.
    pub(super) fn registrant(
        &self,
        user: &User,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Option<TokenHash> {
        let binding = user.registration.as_ref()?;
        let by_token = client
            .registration_token
            .as_ref()
            .is_some_and(|token| self.hasher.registration_hash(token.expose()).ct_eq(&binding.token_hash));
        let by_client = binding.expires_at > now && self.fingerprint(client) == binding.client;
        (by_token || by_client).then_some(binding.token_hash)
    }

    /// Keeps `user`'s pending password if `client` registered it, drops it otherwise;
    /// whether a pending password remains.
    pub(super) async fn settle_pending_password(
        &self,
        user: &User,
        client: &ClientContext,
        now: OffsetDateTime,
    ) -> Result<bool, SignInError> {
        if user.is_verified() || user.password_hash.is_none() {
            return Ok(false);
        }
        if self.registrant(user, client, now).is_some() {
            return Ok(true);
        }
        if self.users.abandon_registration(user.id, now).await? {
            self.revocations.account_updated(user.id);
            tracing::info!(user_id = %user.id, "pending password dropped: another client asked for a code");
        }
        Ok(false)
    }
}
