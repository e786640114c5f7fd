//! Signing in by code and by password: passwordless sign-in, registration, password
//! log-in with its code re-check, and password reset. One flow a file.

mod error;
mod login;
mod password_reset;
mod passwordless;
mod registration;

use std::sync::Arc;
use std::time::Duration;

pub use error::SignInError;
pub use login::LoginOutcome;
pub use registration::RegistrationToken;

use super::codes::OneTimeCodes;
use super::devices::RememberedDevices;
use super::events::Events;
use super::session_issuer::SessionIssuer;
use super::throttle::{Throttle, client_network};
use crate::crypto::{KeyedHasher, PasswordHasher};
use crate::domain::{
    ClientContext, Device, EmailAddress, MailKind, MailMessage, OtpCode, Password, PasswordStrength, User,
};
use crate::policy::{AuthPolicy, PolicyError};
use crate::ports::{
    Clock, CodeStore, DeviceRepository, EventPublisher, Mailer, RateLimiter, SessionRepository,
    UserRepository,
};
use crate::service::{Revocations, Secrets};

/// The ports the sign-in service runs on.
#[derive(Debug, Clone)]
pub struct SignInPorts {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions, opened at sign-in. A password reset ends them through
    /// [`UserRepository::reset_password`], so `users` must end sessions in this store.
    pub sessions: Arc<dyn SessionRepository>,
    /// Remembered devices.
    pub devices: Arc<dyn DeviceRepository>,
    /// One-time codes.
    pub codes: Arc<dyn CodeStore>,
    /// Rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Outgoing mail.
    pub mailer: Arc<dyn Mailer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// A password reset ends every session: told to every instance.
    pub revocations: Revocations,
    /// Auth events (`user.created`, `user.signed_in`, `password.changed`).
    pub events: Arc<dyn EventPublisher>,
}

/// Sign-in by emailed code and by password.
#[derive(Debug, Clone)]
pub struct SignInService {
    users: Arc<dyn UserRepository>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    revocations: Revocations,
    codes: OneTimeCodes,
    throttle: Throttle,
    issuer: SessionIssuer,
    passwords: PasswordHasher,
    hasher: KeyedHasher,
    strength: PasswordStrength,
    devices: RememberedDevices,
    events: Events,
}

impl SignInService {
    /// The service on `ports`, hashing and signing with `secrets`, under `policy`.
    ///
    /// # Errors
    /// [`PolicyError`] when the policy is out of range.
    pub fn new(ports: SignInPorts, secrets: &Secrets, policy: &AuthPolicy) -> Result<Self, PolicyError> {
        policy.validate()?;
        let hasher = secrets.keyed_hasher.clone();
        let tokens = secrets.access_tokens(policy);
        let events = Events::new(ports.events, ports.clock.clone());
        Ok(Self {
            codes: OneTimeCodes::new(ports.codes, ports.clock.clone(), hasher.clone(), policy),
            throttle: Throttle::new(ports.rate_limiter, ports.clock.clone(), hasher.clone(), policy),
            issuer: SessionIssuer::new(
                ports.sessions.clone(),
                tokens,
                hasher.clone(),
                policy,
                events.clone(),
                ports.revocations.clone(),
            ),
            events,
            devices: RememberedDevices::new(
                ports.devices,
                hasher.clone(),
                policy.access_token_ttl,
                ports.mailer.clone(),
                policy.max_devices_per_user,
            ),
            hasher,
            users: ports.users,
            mailer: ports.mailer,
            clock: ports.clock,
            revocations: ports.revocations,
            passwords: secrets.password_hasher.clone(),
            strength: policy.password_strength()?,
        })
    }

    /// How long a new code stays valid.
    pub fn code_lifetime(&self) -> Duration {
        self.codes.lifetime()
    }

    /// How many digits a code has.
    pub fn code_length(&self) -> usize {
        self.codes.length()
    }

    /// A code message of `kind` with the codes' lifetime.
    fn code_mail(
        &self,
        email: &EmailAddress,
        code: OtpCode,
        kind: fn(OtpCode, Duration) -> MailKind,
    ) -> MailMessage {
        MailMessage::new(email.clone(), kind(code, self.codes.lifetime()))
    }

    /// `password` back if it is strong enough for the account of `email`.
    async fn strong_password(
        &self,
        password: Password,
        email: &EmailAddress,
    ) -> Result<Password, SignInError> {
        super::strong_enough(self.strength, password, email).await?.map_err(SignInError::PasswordTooWeak)
    }

    /// The account of `email`, if any, and the client's remembered device for it.
    async fn account_and_device(
        &self,
        email: &EmailAddress,
        client: &ClientContext,
    ) -> Result<(Option<User>, Option<Device>), SignInError> {
        let user = self.users.find_by_email(email).await?;
        let device = self.devices.recognise(client, user.as_ref()).await?;
        Ok((user, device))
    }

    /// The pseudonym mail asked for by `client` is counted under (its network, keyed),
    /// empty when the client's address is unknown.
    fn mail_sender(&self, client: &ClientContext) -> String {
        client.ip.map(|ip| self.hasher.client_digest(&client_network(ip))).unwrap_or_default()
    }

    /// Refuses to issue a code the mail queue would deliver too late, or while this
    /// client has too many mails queued ([`SignInError::MailBacklog`]; see
    /// [`Mailer::admit`]). Looks at nothing but the queue and the client, so the answer
    /// is the same for every address; call it before anything else.
    fn admit_mail(&self, sender: &str) -> Result<(), SignInError> {
        self.mailer.admit(sender, self.codes.lifetime()).map_err(|retry_after| {
            metrics::counter!("otp_mail_backlog_refusals_total").increment(1);
            SignInError::MailBacklog { retry_after }
        })
    }

    /// Queues `message` in the account's stored language, else the one `client` asked
    /// for, counted against `client` (see [`SignInService::mail_sender`]).
    async fn deliver(
        &self,
        message: MailMessage,
        user: Option<&User>,
        client: &ClientContext,
    ) -> Result<(), SignInError> {
        let message = message.in_language_of(user, client);
        self.mailer.send_for(&message, &self.mail_sender(client)).await?;
        tracing::info!(kind = message.kind.label(), "mail accepted for delivery");
        Ok(())
    }
}

fn sign_in_code(code: OtpCode, expires_in: Duration) -> MailKind {
    MailKind::SignInCode { code, expires_in }
}

fn registration_code(code: OtpCode, expires_in: Duration) -> MailKind {
    MailKind::RegistrationCode { code, expires_in }
}

fn login_check_code(code: OtpCode, expires_in: Duration) -> MailKind {
    MailKind::LoginCheckCode { code, expires_in }
}

fn password_reset_code(code: OtpCode, expires_in: Duration) -> MailKind {
    MailKind::PasswordResetCode { code, expires_in }
}
