//! Accounts in a map, unique by normalised address.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use otp_core::crypto::TokenHash;
use otp_core::domain::{Device, Locale, PasswordHash, RegistrationBinding, Role, Session, User};
use otp_core::ports::{UserListQuery, UserRepository};
use otp_core::{EmailAddress, PortError, UserId};
use time::OffsetDateTime;

use crate::lock::lock;
use crate::{MemoryDeviceRepository, MemorySessionRepository};

#[derive(Debug, Default)]
struct Accounts {
    by_id: HashMap<UserId, User>,
    by_email: HashMap<EmailAddress, UserId>,
}

/// In-memory [`UserRepository`].
///
/// A password reset ends the account's sessions, and a first sign-in stores its session
/// and device, in the [`MemorySessionRepository`] and [`MemoryDeviceRepository`] given
/// to [`MemoryUserRepository::with_stores`]: give it the ones the services use.
#[derive(Debug, Default)]
pub struct MemoryUserRepository {
    accounts: Mutex<Accounts>,
    sessions: Arc<MemorySessionRepository>,
    devices: Arc<MemoryDeviceRepository>,
}

impl MemoryUserRepository {
    /// An empty repository with session and device repositories of its own (for tests
    /// that use no sessions or devices).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty repository whose password resets end the sessions in `sessions`, and
    /// whose first sign-ins store their session in `sessions` and their device in
    /// `devices`.
    pub fn with_stores(sessions: Arc<MemorySessionRepository>, devices: Arc<MemoryDeviceRepository>) -> Self {
        Self { accounts: Mutex::default(), sessions, devices }
    }

    fn update(&self, id: UserId, change: impl FnOnce(&mut User)) -> Option<User> {
        let mut accounts = lock(&self.accounts);
        let user = accounts.by_id.get_mut(&id)?;
        change(user);
        Some(user.clone())
    }

    /// Applies `change` only to an unverified account; whether it did.
    fn update_unverified(&self, id: UserId, change: impl FnOnce(&mut User)) -> bool {
        let mut accounts = lock(&self.accounts);
        match accounts.by_id.get_mut(&id) {
            Some(user) if !user.is_verified() => {
                change(user);
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl UserRepository for MemoryUserRepository {
    async fn create(&self, user: &User) -> Result<(), PortError> {
        let mut accounts = lock(&self.accounts);
        if accounts.by_email.contains_key(&user.email) || accounts.by_id.contains_key(&user.id) {
            return Err(PortError::EmailTaken);
        }
        accounts.by_email.insert(user.email.clone(), user.id);
        accounts.by_id.insert(user.id, user.clone());
        Ok(())
    }

    async fn create_with_first_sign_in(
        &self,
        user: &User,
        session: &Session,
        device: &Device,
    ) -> Result<(), PortError> {
        // The accounts stay locked until the session and the device are stored, and the
        // account goes in last: whoever finds it finds its session and device too.
        let mut accounts = lock(&self.accounts);
        if accounts.by_email.contains_key(&user.email) || accounts.by_id.contains_key(&user.id) {
            return Err(PortError::EmailTaken);
        }
        self.sessions.insert(session);
        self.devices.insert(device);
        accounts.by_email.insert(user.email.clone(), user.id);
        accounts.by_id.insert(user.id, user.clone());
        Ok(())
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, PortError> {
        Ok(lock(&self.accounts).by_id.get(&id).cloned())
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, PortError> {
        let accounts = lock(&self.accounts);
        Ok(accounts.by_email.get(email).and_then(|id| accounts.by_id.get(id)).cloned())
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: Option<&PasswordHash>,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        Ok(self
            .update(id, |user| {
                user.password_hash = hash.cloned();
                user.registration = None;
                user.updated_at = now;
            })
            .is_some())
    }

    async fn register_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        binding: &RegistrationBinding,
        now: OffsetDateTime,
    ) -> Result<bool, PortError> {
        Ok(self.update_unverified(id, |user| {
            user.password_hash = Some(hash.clone());
            user.registration = Some(binding.clone());
            user.updated_at = now;
        }))
    }

    async fn abandon_registration(&self, id: UserId, now: OffsetDateTime) -> Result<bool, PortError> {
        Ok(self.update_unverified(id, |user| {
            user.password_hash = None;
            user.registration = None;
            user.updated_at = now;
        }))
    }

    async fn record_code_sign_in(
        &self,
        id: UserId,
        now: OffsetDateTime,
        registrant: Option<&TokenHash>,
    ) -> Result<Option<User>, PortError> {
        Ok(self.update(id, |user| {
            let bound = user.registration.take().map(|binding| binding.token_hash);
            let by_registrant = bound.is_some() && bound.as_ref() == registrant;
            if !user.is_verified() && !by_registrant {
                user.password_hash = None;
            }
            user.email_verified_at.get_or_insert(now);
            user.last_code_verified_at = Some(now);
            user.updated_at = now;
        }))
    }

    async fn record_code_verified(&self, id: UserId, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        Ok(self.update(id, |user| {
            user.email_verified_at.get_or_insert(now);
            user.last_code_verified_at = Some(now);
            user.updated_at = now;
        }))
    }

    async fn reset_password(
        &self,
        id: UserId,
        hash: &PasswordHash,
        now: OffsetDateTime,
    ) -> Result<Option<u64>, PortError> {
        // The accounts stay locked until the sessions are revoked, so no one logs in
        // with the new password while an old session still works.
        let mut accounts = lock(&self.accounts);
        let Some(user) = accounts.by_id.get_mut(&id) else { return Ok(None) };
        user.password_hash = Some(hash.clone());
        user.email_verified_at.get_or_insert(now);
        user.last_code_verified_at = Some(now);
        user.updated_at = now;
        let ended = self.sessions.revoke_all_now(id, now);
        drop(accounts);
        Ok(Some(ended))
    }

    async fn list(&self, query: &UserListQuery) -> Result<Vec<User>, PortError> {
        let accounts = lock(&self.accounts);
        let mut found: Vec<&User> = accounts
            .by_id
            .values()
            .filter(|user| query.before.is_none_or(|before| user.id < before))
            .filter(|user| {
                query
                    .email_contains
                    .as_deref()
                    .is_none_or(|text| user.email.as_str().contains(&text.to_lowercase()))
            })
            .collect();
        found.sort_unstable_by_key(|user| std::cmp::Reverse(user.id));
        Ok(found.into_iter().take(query.limit).cloned().collect())
    }

    async fn set_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        Ok(self.update(id, |user| {
            user.disabled = disabled;
            user.updated_at = now;
        }))
    }

    async fn set_role(&self, id: UserId, role: Role, now: OffsetDateTime) -> Result<Option<User>, PortError> {
        Ok(self.update(id, |user| {
            user.role = role;
            user.updated_at = now;
        }))
    }

    async fn change_email(
        &self,
        id: UserId,
        email: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        let mut accounts = lock(&self.accounts);
        if accounts.by_email.get(email).is_some_and(|owner| *owner != id) {
            return Err(PortError::EmailTaken);
        }
        let Some(user) = accounts.by_id.get_mut(&id) else {
            return Ok(None);
        };
        let old = std::mem::replace(&mut user.email, email.clone());
        user.email_verified_at.get_or_insert(now);
        user.updated_at = now;
        let updated = user.clone();
        accounts.by_email.remove(&old);
        accounts.by_email.insert(email.clone(), id);
        Ok(Some(updated))
    }

    async fn set_locale(
        &self,
        id: UserId,
        locale: Option<&Locale>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, PortError> {
        Ok(self.update(id, |user| {
            user.locale = locale.cloned();
            user.updated_at = now;
        }))
    }

    async fn delete(&self, id: UserId) -> Result<bool, PortError> {
        let mut accounts = lock(&self.accounts);
        let Some(user) = accounts.by_id.remove(&id) else {
            return Ok(false);
        };
        accounts.by_email.remove(&user.email);
        Ok(true)
    }
}
