//! Passwordless sign-in: send a code, resend it, verify it.

use super::{SignInError, SignInService, registration_code, sign_in_code};
use crate::domain::{
    AuthEventKind, AuthMethod, ClientContext, CodePurpose, DeviceId, EmailAddress, MailKind, MailMessage,
    OtpCode, User,
};
use crate::error::{Failure, PortError};
use crate::ports::Within;
use crate::service::codes::CheckError;
use crate::service::throttle::Action;
use crate::service::{OnDevice, SignedIn};

/// How a first passwordless sign-in of an address ended.
#[expect(clippy::large_enum_variant, reason = "made once per sign-in and matched at once")]
enum FirstSignIn {
    /// The account, its session and its device were stored.
    SignedIn(SignedIn),
    /// A concurrent request created the account first; nothing was stored.
    AccountExists(User),
}

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
    /// [`SignInError::MailBacklog`], [`SignInError::RateLimited`],
    /// [`SignInError::Cooldown`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn send_code(&self, email: &EmailAddress, client: &ClientContext) -> Result<(), SignInError> {
        let sender = self.mail_sender(client);
        self.admit_mail(&sender)?;
        let (user, device) = self.account_and_device(email, client).await?;
        let device = device.map(|device| device.id);
        let code = self.sign_in_code_within(Action::SendCode, email, client, device).await?;
        if let Some(user) = &user {
            self.settle_pending_password(user, client, self.clock.now()).await?;
        }
        self.deliver(self.code_mail(email, code, sign_in_code), user.as_ref(), client).await
    }

    /// Emails a new code, replacing the previous one: a registration code when the
    /// client that registered the address asks, a sign-in code otherwise (another
    /// client's request drops the pending password, as [`SignInService::send_code`]).
    ///
    /// # Errors
    /// As [`SignInService::send_code`].
    #[tracing::instrument(skip_all)]
    pub async fn resend_code(&self, email: &EmailAddress, client: &ClientContext) -> Result<(), SignInError> {
        let sender = self.mail_sender(client);
        self.admit_mail(&sender)?;
        let (user, device) = self.account_and_device(email, client).await?;
        let device = device.map(|device| device.id);
        let code = self.sign_in_code_within(Action::ResendCode, email, client, device).await?;
        let pending_registration = match &user {
            Some(user) => self.settle_pending_password(user, client, self.clock.now()).await?,
            None => false,
        };
        let kind = if pending_registration { registration_code } else { sign_in_code };
        self.deliver(self.code_mail(email, code, kind), user.as_ref(), client).await
    }

    /// A new sign-in code for `email` (the device's own when `device` is given), once
    /// `action`'s budgets are spent: both in one step of the code store where it can
    /// (one round trip on Redis).
    async fn sign_in_code_within(
        &self,
        action: Action,
        email: &EmailAddress,
        client: &ClientContext,
        device: Option<DeviceId>,
    ) -> Result<OtpCode, SignInError> {
        let budgets = self.throttle.budgets_for(action, client, Some(email), device);
        self.codes.issue_for_within(CodePurpose::SignIn, email, device, &budgets, &self.throttle).await
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
        let (user, device) = self.account_and_device(email, client).await?;
        let device_id = device.as_ref().map(|device| device.id);
        self.check_sign_in_code(email, code, user.as_ref(), device_id, client).await?;
        let now = self.clock.now();
        let user = match user {
            Some(user) => self.record_code_sign_in(user, client, now).await?,
            None => match self.first_sign_in(email, client, now).await? {
                FirstSignIn::SignedIn(signed_in) => return Ok(signed_in),
                // A concurrent request created the account: sign in to it as to any.
                FirstSignIn::AccountExists(existing) => {
                    self.record_code_sign_in(existing, client, now).await?
                }
            },
        };
        let on = OnDevice {
            devices: &self.devices,
            client,
            recognised: device.as_ref(),
            code_checked: true,
            standing: None,
        };
        Ok(self.issuer.start_on_device(user, vec![AuthMethod::Otp], on, now).await?)
    }

    /// Once a day, tells the owner that code sign-in is locked for clients without a
    /// remembered device (the address's daily cap is spent).
    async fn tell_owner_of_lock(
        &self,
        email: &EmailAddress,
        user: Option<&User>,
        client: &ClientContext,
    ) -> Result<(), SignInError> {
        if self.throttle.first_lock_today(email).await? {
            tracing::warn!(
                user_id = user.map(|user| user.id.to_string()),
                "code sign-in locked for new devices"
            );
            if user.is_some() {
                let notice = MailMessage::new(email.clone(), MailKind::CodeSignInLocked);
                self.deliver(notice, user, client).await?;
            }
        }
        Ok(())
    }

    /// Checks a sign-in code once the request's budgets and, from a client without a
    /// remembered device, the address's daily guesses are counted: on a remembered
    /// device, its own code first, then the address's shared one when the device has
    /// none. The budgets and the first check are one step of the code store where it
    /// can (one round trip on Redis). When the daily guesses are spent, the owner is told
    /// once a day and the check refused.
    async fn check_sign_in_code(
        &self,
        email: &EmailAddress,
        code: &OtpCode,
        user: Option<&User>,
        device: Option<DeviceId>,
        client: &ClientContext,
    ) -> Result<(), SignInError> {
        let guess = self.throttle.code_guess(client, email, device);
        let within = self
            .codes
            .check_code_within(CodePurpose::SignIn, email, code, device, &guess.budgets, &self.throttle)
            .await?;
        let checked = match within {
            Within::Counted(checked) => checked,
            Within::Limited(decisions) => {
                let Some(retry_after) = guess.judge(&decisions)? else {
                    return Err(Failure::internal("a limit was reported without a limited decision").into());
                };
                self.tell_owner_of_lock(email, user, client).await?;
                return Err(SignInError::CodeSignInLocked { retry_after });
            }
        };
        match checked {
            // The device has no code of its own: the address's shared one.
            Err(CheckError::Invalid { attempts_remaining: None }) if device.is_some() => {
                Ok(self.codes.check_code(CodePurpose::SignIn, email, code).await?)
            }
            other => Ok(other?),
        }
    }

    /// Records a code sign-in of an existing account (see
    /// [`crate::ports::UserRepository::record_code_sign_in`]); the updated account.
    async fn record_code_sign_in(
        &self,
        user: User,
        client: &ClientContext,
        now: time::OffsetDateTime,
    ) -> Result<User, SignInError> {
        let registrant = self.registrant(&user, client, now);
        // An account registered with a password comes to be when its code is entered.
        let method = if registrant.is_some() { AuthMethod::Password } else { AuthMethod::Otp };
        let registered = (!user.is_verified()).then_some(method);
        let user = self
            .users
            .record_code_sign_in(user.id, now, registrant.as_ref())
            .await?
            .ok_or(SignInError::CodeInvalid { attempts_remaining: None })?;
        self.revocations.account_updated(user.id);
        if let Some(method) = registered {
            self.events.emit(user.id, AuthEventKind::UserCreated { method }).await;
        }
        Ok(user)
    }

    /// Creates the account of a first passwordless sign-in with its session and its
    /// device, in one port call (see
    /// [`crate::ports::UserRepository::create_with_first_sign_in`]), then publishes
    /// `user.created` and `user.signed_in`. If a concurrent request created the
    /// account first, nothing is stored and that account is returned.
    async fn first_sign_in(
        &self,
        email: &EmailAddress,
        client: &ClientContext,
        now: time::OffsetDateTime,
    ) -> Result<FirstSignIn, SignInError> {
        // Created verified, code checked, with no pending password: nothing about the
        // code check is left to record on it.
        let user = User::new_verified(email.clone(), now);
        let session = self.issuer.prepare(&user, vec![AuthMethod::Otp], client, now)?;
        let device = self.devices.new_device(&user, client, now, true);
        match self.users.create_with_first_sign_in(&user, &session.session, &device.device).await {
            Ok(()) => {}
            Err(PortError::EmailTaken) => {
                return match self.users.find_by_email(email).await? {
                    Some(existing) => Ok(FirstSignIn::AccountExists(existing)),
                    None => Err(Failure::internal("account vanished after a conflict").into()),
                };
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(user_id = %user.id, "account created by passwordless sign-in");
        tracing::info!(user_id = %user.id, device_id = %device.device.id, "device remembered");
        self.events.emit(user.id, AuthEventKind::UserCreated { method: AuthMethod::Otp }).await;
        let mut signed_in = self.issuer.sign(user, session, now).await?;
        signed_in.device_token = Some(device.token());
        Ok(FirstSignIn::SignedIn(signed_in))
    }
}
