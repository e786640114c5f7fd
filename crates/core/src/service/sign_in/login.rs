//! Password log-in, with a fresh code when the last code check is too old.

use std::time::Duration;

use super::{SignInError, SignInService, login_check_code};
use crate::crypto::PasswordHasher;
use crate::domain::{AuthMethod, ClientContext, CodePurpose, DeviceId, EmailAddress, Password, User};
use crate::error::Failure;
use crate::service::codes::IssueError;
use crate::service::throttle::Action;
use crate::service::{OnDevice, SignedIn};

/// What a correct password leads to.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Signed in.
    SignedIn(Box<SignedIn>),
    /// This device has not passed a code check within the access-token lifetime: a
    /// code was emailed and must be entered through `verify_code`.
    CodeRequired {
        /// How long the code stays valid (the earlier code's remaining lifetime when
        /// no new one was sent).
        expires_in: Duration,
        /// Set when a code was sent moments ago and no new one was sent: the earlier
        /// code still works, and a new one can be asked for after this wait.
        resend_after: Option<Duration>,
    },
}

impl SignInService {
    /// Checks `password` for `email`.
    ///
    /// An unknown address, an account without a password, a wrong password and the
    /// pending password of a registration not yet verified all answer
    /// [`SignInError::InvalidCredentials`] after the same Argon2 work, so
    /// `register {X, P}` then `login {X, P}` answers alike whether or not X has an
    /// account. Only after a correct password of a verified account is
    /// [`SignInError::AccountDisabled`] reported.
    ///
    /// The code re-check is per device: a correct password signs in only on a device
    /// that passed a code check within the access-token lifetime (recognised by its
    /// device token, or, for a client that sends none, by its network and user agent);
    /// anywhere else a code is mailed and [`LoginOutcome::CodeRequired`] answered.
    ///
    /// # Errors
    /// As above, plus [`SignInError::RateLimited`], [`SignInError::Busy`] (every
    /// password-hashing worker busy; decided by load alone) and failures.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        email: &EmailAddress,
        password: Password,
        client: &ClientContext,
    ) -> Result<LoginOutcome, SignInError> {
        // A log-in that would find every hashing worker busy is refused before it
        // reads anything: under a burst, the refusals cost no look-up.
        self.passwords.check_room()?;
        // A client without a device token: its standing is read with the account.
        let (user, standing) =
            self.devices.account_and_standing(self.users.as_ref(), email, client, self.clock.now()).await?;
        let device = self.devices.recognise(client, user.as_ref()).await?;
        let device_id = device.as_ref().map(|device| device.id);
        self.throttle.check_for(Action::Login, client, Some(email), device_id).await?;
        let stored = user.as_ref().and_then(|user| user.password_hash.as_ref());
        let rehash = stored
            .filter(|hash| PasswordHasher::needs_rehash(hash))
            .map(|_| Password::presented(password.expose().to_owned()));
        let matches = self.passwords.verify(password, stored).await?;
        let user = match user {
            Some(user) if matches && user.is_verified() => user,
            _ => return Err(SignInError::InvalidCredentials),
        };
        if let Some(password) = rehash {
            self.replace_imported_hash(&user, password).await;
        }
        if user.disabled {
            return Err(SignInError::AccountDisabled);
        }
        let now = self.clock.now();
        let check = self.devices.code_checked_recently(client, &user, device.as_ref(), now, standing).await?;
        if !check.passed {
            return self.ask_for_code(&user, device_id, client).await;
        }
        let on = OnDevice {
            devices: &self.devices,
            client,
            recognised: device.as_ref(),
            code_checked: false,
            standing: check.standing,
        };
        let signed_in = self.issuer.start_on_device(user, vec![AuthMethod::Password], on, now).await?;
        Ok(LoginOutcome::SignedIn(Box::new(signed_in)))
    }

    /// Replaces an imported (bcrypt) hash by an Argon2id one after the password matched
    /// it. A failure is logged, not reported: the old hash still works next time.
    async fn replace_imported_hash(&self, user: &User, password: Password) {
        let replaced = match self.passwords.hash(password).await {
            Ok(hash) => {
                self.users.set_password(user.id, Some(&hash), self.clock.now()).await.map_err(Failure::from)
            }
            Err(error) => Err(Failure::from(error)),
        };
        self.revocations.account_updated(user.id);
        match replaced {
            Ok(_) => tracing::info!(user_id = %user.id, "imported password hash replaced by Argon2id"),
            Err(error) => {
                tracing::warn!(user_id = %user.id, %error, "could not replace an imported password hash")
            }
        }
    }

    async fn ask_for_code(
        &self,
        user: &User,
        device: Option<DeviceId>,
        client: &ClientContext,
    ) -> Result<LoginOutcome, SignInError> {
        let expires_in = self.codes.lifetime();
        match self.codes.issue_for(CodePurpose::SignIn, &user.email, device).await {
            Ok(code) => {
                self.deliver(self.code_mail(&user.email, code, login_check_code), Some(user), client).await?;
                tracing::info!(user_id = %user.id, "log-in needs a fresh code");
                Ok(LoginOutcome::CodeRequired { expires_in, resend_after: None })
            }
            Err(IssueError::Cooldown { retry_after }) => {
                // The earlier code was issued `cooldown - retry_after` ago.
                let elapsed = self.codes.cooldown().saturating_sub(retry_after);
                let expires_in = expires_in.saturating_sub(elapsed);
                Ok(LoginOutcome::CodeRequired { expires_in, resend_after: Some(retry_after) })
            }
            Err(other) => Err(other.into()),
        }
    }
}
