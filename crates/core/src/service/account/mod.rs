//! Account self-service: what the signed-in owner does to their own account. Changing
//! the password or the address, deleting the account, signing out everywhere else,
//! unlinking provider identities, and exporting what is held about them.
//!
//! A stolen access token alone never takes an account over: changing the password, the
//! address, or deleting the account also needs the current password or a fresh code
//! mailed to the account's address (each change has its own code purpose).

mod error;

use std::sync::Arc;
use std::time::Duration;

pub use error::AccountError;

use super::codes::OneTimeCodes;
use super::sessions::Principal;
use super::throttle::{Action, Throttle};
use crate::crypto::{KeyedHasher, PasswordHasher, UndoToken};
use crate::domain::{
    AccountAction, AuditEntry, AuthEventKind, ClientContext, CodePurpose, Device, EmailAddress, MailKind,
    MailMessage, OtpCode, Password, PasswordStrength, RevokedBy, SecretLink, Session, User,
};
use crate::error::Failure;
use crate::policy::{AuthPolicy, PolicyError};
use crate::ports::{
    AuditLog, Clock, CodeStore, DeviceRepository, EventPublisher, IdentityRepository, LinkedIdentity, Mailer,
    RateLimiter, SessionRepository, UserRepository,
};
use crate::service::events::Events;
use crate::service::{Revocations, Secrets};

/// How long the undo link of an address change works.
pub const UNDO_EMAIL_CHANGE_WINDOW: Duration = Duration::from_secs(72 * 3600);

/// The most audit entries an export lists.
pub const EXPORTED_AUDIT_ENTRIES: usize = 1000;

/// What confirms a change: the current password or a fresh code sent to the account's
/// address for that change.
#[derive(Debug)]
pub enum Proof {
    /// The account's current password.
    Password(Password),
    /// A code from [`AccountService::request_code`] for the same change.
    Code(OtpCode),
}

/// Everything held about an account, for its owner ([`AccountService::export`]).
#[derive(Debug, Clone)]
pub struct AccountExport {
    /// The account.
    pub user: User,
    /// Its active sessions, newest first.
    pub sessions: Vec<Session>,
    /// The provider identities linked to it.
    pub identities: Vec<LinkedIdentity>,
    /// Its remembered devices.
    pub devices: Vec<Device>,
    /// The audit entries naming it (as administrator or as target), newest first.
    pub audit_entries: Vec<AuditEntry>,
}

/// The ports the account service runs on.
#[derive(Debug, Clone)]
pub struct AccountPorts {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions (ended by a password change, an undo, a deletion, or on request).
    pub sessions: Arc<dyn SessionRepository>,
    /// Remembered devices (exported, forgotten at deletion).
    pub devices: Arc<dyn DeviceRepository>,
    /// Linked provider identities.
    pub identities: Arc<dyn IdentityRepository>,
    /// One-time codes and the undo tokens of address changes.
    pub codes: Arc<dyn CodeStore>,
    /// Rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// The audit log (exported; pseudonymised at deletion).
    pub audit_log: Arc<dyn AuditLog>,
    /// Outgoing mail.
    pub mailer: Arc<dyn Mailer>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Ended sessions and changed accounts, told to every instance.
    pub revocations: Revocations,
    /// Auth events (`password.changed`, `email.changed`, `user.deleted`,
    /// `session.revoked`, `identity.unlinked`).
    pub events: Arc<dyn EventPublisher>,
}

/// Account self-service for the signed-in owner.
#[derive(Debug, Clone)]
pub struct AccountService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    devices: Arc<dyn DeviceRepository>,
    identities: Arc<dyn IdentityRepository>,
    audit_log: Arc<dyn AuditLog>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    revocations: Revocations,
    events: Events,
    codes: OneTimeCodes,
    throttle: Throttle,
    passwords: PasswordHasher,
    hasher: KeyedHasher,
    strength: PasswordStrength,
    page_url: String,
}

impl AccountService {
    /// The service on `ports`, hashing with `secrets`, under `policy` (undo links point
    /// at its `page_url`).
    ///
    /// # Errors
    /// [`PolicyError`] when the policy is out of range.
    pub fn new(ports: AccountPorts, secrets: &Secrets, policy: &AuthPolicy) -> Result<Self, PolicyError> {
        policy.validate()?;
        let hasher = secrets.keyed_hasher.clone();
        Ok(Self {
            codes: OneTimeCodes::new(ports.codes, ports.clock.clone(), hasher.clone(), policy),
            throttle: Throttle::new(ports.rate_limiter, ports.clock.clone(), hasher.clone(), policy),
            users: ports.users,
            sessions: ports.sessions,
            devices: ports.devices,
            identities: ports.identities,
            audit_log: ports.audit_log,
            mailer: ports.mailer,
            revocations: ports.revocations,
            events: Events::new(ports.events, ports.clock.clone()),
            clock: ports.clock,
            passwords: secrets.password_hasher.clone(),
            strength: policy.password_strength()?,
            hasher,
            page_url: policy.page_url.trim_end_matches('/').to_owned(),
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

    /// Mails a code that confirms `action` to the caller's address.
    ///
    /// # Errors
    /// [`AccountError::Cooldown`], [`AccountError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all, fields(action = action.purpose().as_str()))]
    pub async fn request_code(
        &self,
        principal: &Principal,
        action: AccountAction,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let user = &principal.user;
        self.throttle.check(Action::AccountCode, client, Some(&user.email)).await?;
        let code = self.codes.issue_for_account(action.purpose(), &user.email, user.id).await?;
        let kind = MailKind::AccountActionCode { action, code, expires_in: self.codes.lifetime() };
        self.deliver(user, &user.email, kind).await
    }

    /// Checks what confirms `action`: the password or a fresh code for `action`.
    async fn confirm(
        &self,
        user: &User,
        action: AccountAction,
        proof: Proof,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        self.confirm_then(user, action, proof, client, || Ok(())).await
    }

    /// As [`Self::confirm`], and answers what `ready` prepares for the step after: a code
    /// confirmation calls it before the code check uses the code up (and after the rate
    /// limit), so that a refusal there leaves the code good; a password confirmation
    /// calls it after the password's verification.
    async fn confirm_then<T>(
        &self,
        user: &User,
        action: AccountAction,
        proof: Proof,
        client: &ClientContext,
        ready: impl FnOnce() -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        self.throttle.check(Action::AccountConfirm, client, Some(&user.email)).await?;
        match proof {
            Proof::Password(password) => {
                let stored = user.password_hash.as_ref();
                let matches = self.passwords.verify(password, stored).await?;
                if !(matches && stored.is_some()) {
                    return Err(AccountError::InvalidCredentials);
                }
                ready()
            }
            Proof::Code(code) => {
                let prepared = ready()?;
                self.codes.check_code_for_account(action.purpose(), &user.email, &code, user.id).await?;
                Ok(prepared)
            }
        }
    }

    /// Sets a new password, confirmed with the current one (or, for an account without
    /// a password, with a fresh code), ends every other session and mails a notice.
    ///
    /// # Errors
    /// [`AccountError::ConfirmationRequired`], [`AccountError::InvalidCredentials`],
    /// [`AccountError::PasswordTooWeak`], the code errors, [`AccountError::RateLimited`],
    /// or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        principal: &Principal,
        new_password: Password,
        proof: Proof,
        client: &ClientContext,
    ) -> Result<u64, AccountError> {
        let user = &principal.user;
        match (&proof, user.password_hash.is_some()) {
            (Proof::Code(_), true) => {
                return Err(AccountError::ConfirmationRequired(
                    "this account has a password: confirm with the current password",
                ));
            }
            (Proof::Password(_), false) => {
                return Err(AccountError::ConfirmationRequired(
                    "this account has no password: confirm with a code sent to its address",
                ));
            }
            _ => {}
        }
        // Before the confirmation, so a refused password does not use up the code.
        let new_password = self.strong_password(new_password, &user.email).await?;
        // Room to hash, taken where a full queue refuses before a code is used up (a
        // password confirmation verifies first, in a room of its own).
        let room = self
            .confirm_then(user, AccountAction::ChangePassword, proof, client, || {
                Ok(self.passwords.reserve()?)
            })
            .await?;
        let hash = room.hash(new_password).await?;
        let now = self.clock.now();
        if !self.users.set_password(user.id, Some(&hash), now).await? {
            return Err(AccountError::Failure(Failure::internal(
                "the account vanished during a password change",
            )));
        }
        // Token checks serve the account (and whether it has a password) from the cache.
        self.revocations.account_changed(user.id).await;
        let ended = self.end_other_sessions(principal).await?;
        tracing::info!(user_id = %user.id, sessions_ended = ended, "password changed by its owner");
        self.events.emit(user.id, AuthEventKind::PasswordChanged).await;
        self.deliver(user, &user.email, MailKind::PasswordChanged).await?;
        Ok(ended)
    }

    async fn strong_password(
        &self,
        password: Password,
        email: &EmailAddress,
    ) -> Result<Password, AccountError> {
        super::strong_enough(self.strength, password, email).await?.map_err(AccountError::PasswordTooWeak)
    }

    /// Starts moving the account to `new_email`, confirmed with the password or a fresh
    /// code: mails a code to the new address, or, when another account has that
    /// address, a notice saying so instead. The answer, the cooldown and the counters
    /// are the same either way.
    ///
    /// # Errors
    /// [`AccountError::SameEmail`], the confirmation errors, [`AccountError::Cooldown`],
    /// [`AccountError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn change_email(
        &self,
        principal: &Principal,
        new_email: &EmailAddress,
        proof: Proof,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let user = &principal.user;
        if *new_email == user.email {
            return Err(AccountError::SameEmail);
        }
        self.throttle.check(Action::AccountCode, client, Some(new_email)).await?;
        self.confirm(user, AccountAction::ChangeEmail, proof, client).await?;
        let code = self.codes.issue_for_account(CodePurpose::ConfirmNewEmail, new_email, user.id).await?;
        let kind = if self.users.find_by_email(new_email).await?.is_some() {
            MailKind::NewEmailTaken
        } else {
            MailKind::NewEmailCode { code, expires_in: self.codes.lifetime() }
        };
        self.deliver(user, new_email, kind).await
    }

    /// Moves the account to `new_email` with the code mailed there by
    /// [`Self::change_email`], and mails the old address a notice with the new one
    /// masked and a single-use link that undoes the change within 72 hours.
    ///
    /// # Errors
    /// The code errors, [`AccountError::EmailTaken`], [`AccountError::RateLimited`], or
    /// a failure.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_email_change(
        &self,
        principal: &Principal,
        new_email: &EmailAddress,
        code: &OtpCode,
        client: &ClientContext,
    ) -> Result<User, AccountError> {
        let user = &principal.user;
        self.throttle.check(Action::AccountConfirm, client, Some(new_email)).await?;
        self.codes.check_code_for_account(CodePurpose::ConfirmNewEmail, new_email, code, user.id).await?;
        let now = self.clock.now();
        let moved = match self.users.change_email(user.id, new_email, now).await {
            Ok(Some(moved)) => moved,
            Ok(None) => return Err(AccountError::Failure(Failure::internal("the account vanished"))),
            Err(crate::PortError::EmailTaken) => return Err(AccountError::EmailTaken),
            Err(other) => return Err(other.into()),
        };
        let undo = UndoToken::generate(user.id, user.email.clone());
        self.codes
            .store_secret(
                CodePurpose::UndoEmailChange,
                user.id,
                &user.email,
                undo.hash(&self.hasher),
                UNDO_EMAIL_CHANGE_WINDOW,
            )
            .await?;
        tracing::info!(user_id = %user.id, "address changed by its owner");
        // Access tokens carry the address: every instance reads the account again.
        self.revocations.account_changed(user.id).await;
        self.events.emit(user.id, AuthEventKind::EmailChanged).await;
        let undo_link = SecretLink::new(format!("{}/#undo-email={}", self.page_url, undo.expose()));
        let kind = MailKind::EmailChanged { new_email_masked: new_email.masked(), undo_link };
        self.deliver(user, &user.email, kind).await?;
        Ok(moved)
    }

    /// Moves an account back to its old address with the undo link mailed there, and
    /// ends every session of the account. Needs no session: whoever holds the old
    /// mailbox may have lost access to the account.
    ///
    /// # Errors
    /// [`AccountError::UndoInvalid`], [`AccountError::EmailTaken`] (someone registered
    /// the old address in the meantime), [`AccountError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn undo_email_change(&self, token: &str, client: &ClientContext) -> Result<(), AccountError> {
        self.throttle.check(Action::UndoEmailChange, client, None).await?;
        let token = UndoToken::parse(token).ok_or(AccountError::UndoInvalid)?;
        let user_id = token.user_id();
        self.codes
            .check_secret(CodePurpose::UndoEmailChange, user_id, token.old_email(), &token.hash(&self.hasher))
            .await
            .map_err(|error| match error {
                crate::service::CheckError::Failure(failure) => AccountError::Failure(failure),
                _ => AccountError::UndoInvalid,
            })?;
        let now = self.clock.now();
        match self.users.change_email(user_id, token.old_email(), now).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(AccountError::UndoInvalid),
            Err(crate::PortError::EmailTaken) => return Err(AccountError::EmailTaken),
            Err(other) => return Err(other.into()),
        }
        let ended = self.sessions.revoke_all_for_user(user_id, now).await?;
        tracing::info!(%user_id, sessions_ended = ended, "address change undone");
        self.revocations.account_changed(user_id).await;
        self.events.emit(user_id, AuthEventKind::EmailChanged).await;
        let revoked = AuthEventKind::SessionRevoked { session_id: None, by: RevokedBy::User };
        self.events.emit(user_id, revoked).await;
        Ok(())
    }

    /// Ends every session of the caller but the current one; how many ended.
    ///
    /// # Errors
    /// A failure.
    pub async fn revoke_other_sessions(&self, principal: &Principal) -> Result<u64, AccountError> {
        let ended = self.end_other_sessions(principal).await?;
        tracing::info!(user_id = %principal.user.id, sessions_ended = ended, "other sessions ended by their owner");
        Ok(ended)
    }

    async fn end_other_sessions(&self, principal: &Principal) -> Result<u64, AccountError> {
        let now = self.clock.now();
        let mut ended = 0;
        for session in self.sessions.list_active(principal.user.id, now).await? {
            if session.id != principal.session_id() && self.sessions.revoke(session.id, now).await? {
                self.revocations.session_ended(session.id).await;
                let revoked =
                    AuthEventKind::SessionRevoked { session_id: Some(session.id), by: RevokedBy::User };
                self.events.emit(principal.user.id, revoked).await;
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// The provider identities linked to the caller's account, oldest first.
    ///
    /// # Errors
    /// A failure.
    pub async fn identities(&self, principal: &Principal) -> Result<Vec<LinkedIdentity>, AccountError> {
        Ok(self.identities.list_for_user(principal.user.id).await?)
    }

    /// Unlinks the caller's identities at `provider`, unless that would leave the
    /// account without a way to sign in it has used: a password, an identity at
    /// another provider, or a code sign-in it has passed before (every account can get
    /// a code, but an account that only ever signed in with a provider is refused
    /// until its owner sets a password).
    ///
    /// # Errors
    /// [`AccountError::IdentityNotFound`], [`AccountError::LastSignInMethod`], or a
    /// failure.
    pub async fn unlink(&self, principal: &Principal, provider: &str) -> Result<(), AccountError> {
        let user = &principal.user;
        let linked = self.identities.list_for_user(user.id).await?;
        if !linked.iter().any(|identity| identity.provider == provider) {
            return Err(AccountError::IdentityNotFound);
        }
        if !still_signs_in_without(user, &linked, provider) {
            return Err(AccountError::LastSignInMethod);
        }
        let removed = self.identities.unlink(user.id, provider).await?;
        tracing::info!(user_id = %user.id, provider, removed, "identity unlinked by its owner");
        self.events.emit(user.id, AuthEventKind::IdentityUnlinked { provider: provider.to_owned() }).await;
        Ok(())
    }

    /// Everything held about the caller.
    ///
    /// # Errors
    /// A failure.
    pub async fn export(&self, principal: &Principal) -> Result<AccountExport, AccountError> {
        let id = principal.user.id;
        let user = self.users.find_by_id(id).await?.unwrap_or_else(|| principal.user.clone());
        Ok(AccountExport {
            user,
            sessions: self.sessions.list_active(id, self.clock.now()).await?,
            identities: self.identities.list_for_user(id).await?,
            devices: self.devices.list_active(id).await?,
            audit_entries: self.audit_log.list_for_user(id, EXPORTED_AUDIT_ENTRIES).await?,
        })
    }

    /// Deletes the caller's account, confirmed with a fresh code or the password: its
    /// sessions end at once, its devices are forgotten, its identities unlinked, the
    /// audit entries naming it keep a keyed pseudonym instead of its address, and the
    /// address is free to register again. A notice goes to the address.
    ///
    /// # Errors
    /// The confirmation errors, [`AccountError::RateLimited`], or a failure.
    #[tracing::instrument(skip_all)]
    pub async fn delete(
        &self,
        principal: &Principal,
        proof: Proof,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let user = &principal.user;
        self.confirm(user, AccountAction::DeleteAccount, proof, client).await?;
        let now = self.clock.now();
        self.sessions.revoke_all_for_user(user.id, now).await?;
        for device in self.devices.list_active(user.id).await? {
            self.devices.revoke(user.id, device.id, now).await?;
        }
        for identity in self.identities.list_for_user(user.id).await? {
            self.identities.unlink(user.id, &identity.provider).await?;
        }
        self.audit_log.pseudonymise(user.id, &self.pseudonym(&user.email)?).await?;
        self.users.delete(user.id).await?;
        self.revocations.account_changed(user.id).await;
        tracing::info!(user_id = %user.id, "account deleted by its owner");
        self.events.emit(user.id, AuthEventKind::UserDeleted).await;
        self.deliver(user, &user.email, MailKind::AccountDeleted).await
    }

    /// The stand-in for a deleted account's address in the audit log: a keyed digest,
    /// the same for the same address, which cannot be turned back into it.
    fn pseudonym(&self, email: &EmailAddress) -> Result<EmailAddress, AccountError> {
        EmailAddress::parse(&format!("deleted-{}@deleted.invalid", self.hasher.email_digest(email)))
            .map_err(|error| AccountError::Failure(Failure::internal(error)))
    }

    /// Queues a message of `kind` to `to`, in the language `user` chose.
    async fn deliver(&self, user: &User, to: &EmailAddress, kind: MailKind) -> Result<(), AccountError> {
        let message = MailMessage::new(to.clone(), kind).in_locale(user.locale.clone());
        self.mailer.send(&message).await?;
        tracing::info!(kind = message.kind.flow(), "mail accepted for delivery");
        Ok(())
    }
}

/// Whether `user` keeps a way to sign in it has used once its identities at
/// `provider` are gone.
fn still_signs_in_without(user: &User, linked: &[LinkedIdentity], provider: &str) -> bool {
    user.password_hash.is_some()
        || user.last_code_verified_at.is_some()
        || linked.iter().any(|identity| identity.provider != provider)
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn identity(provider: &str, user: &User) -> LinkedIdentity {
        LinkedIdentity {
            provider: provider.to_owned(),
            subject: "s".to_owned(),
            user_id: user.id,
            email: user.email.clone(),
            linked_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_last_way_to_sign_in_is_kept() {
        let email = EmailAddress::parse("ann@example.com").unwrap();
        let provider_only = User::new_from_provider(email.clone(), OffsetDateTime::UNIX_EPOCH);
        let google = [identity("google", &provider_only)];
        assert!(!still_signs_in_without(&provider_only, &google, "google"));
        let both = [identity("google", &provider_only), identity("github", &provider_only)];
        assert!(still_signs_in_without(&provider_only, &both, "google"));
        let code_user = User::new_verified(email, OffsetDateTime::UNIX_EPOCH);
        assert!(still_signs_in_without(&code_user, &google, "google"));
    }
}
