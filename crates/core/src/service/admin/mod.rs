//! The admin API's use cases: accounts and the audit log, for administrators only.
//!
//! Who is an administrator is decided here ([`AdminService::effective_role`]): an
//! account with a verified address whose stored role is `admin`, or whose address is
//! the configured administrator address. Every use case takes an [`Administrator`],
//! which only [`AdminService::authorize`] makes, and writes one [`AuditEntry`]
//! once it has taken effect.

mod error;
mod pages;
pub(crate) mod roles;

use std::net::IpAddr;
use std::sync::Arc;

pub use error::AdminError;
pub use pages::{AuditPage, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SEARCH_CHARS, UserPage, UserSearch};
use pages::{page_size, paginate, search_text};

use super::events::Events;
use super::{Principal, Revocations};
use crate::domain::{
    AdminAction, AuditEntry, AuditEntryId, AuthEventKind, ClientContext, EmailAddress, RevokedBy, Role, User,
    UserId,
};
use crate::ports::{AuditLog, Clock, EventPublisher, SessionRepository, UserListQuery, UserRepository};

/// Proof that the caller is an administrator, with the address the request came from.
/// Only [`AdminService::authorize`] makes one.
#[derive(Debug, Clone)]
pub struct Administrator {
    user: User,
    ip: Option<IpAddr>,
}

impl Administrator {
    /// The administrator's account.
    pub fn user(&self) -> &User {
        &self.user
    }
}

/// The ports the admin service runs on.
#[derive(Debug, Clone)]
pub struct AdminPorts {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions (ended when an account is disabled or deleted).
    pub sessions: Arc<dyn SessionRepository>,
    /// What administrators did.
    pub audit_log: Arc<dyn AuditLog>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Every action that ends sessions or changes an account is told to every instance.
    pub revocations: Revocations,
    /// Auth events (`user.deleted`, `session.revoked`).
    pub events: Arc<dyn EventPublisher>,
}

/// Account administration and the audit log.
#[derive(Debug, Clone)]
pub struct AdminService {
    users: Arc<dyn UserRepository>,
    sessions: Arc<dyn SessionRepository>,
    audit_log: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
    revocations: Revocations,
    admin_email: Option<EmailAddress>,
    events: Events,
}

impl AdminService {
    /// The service on `ports`. `admin_email` is the account that is an administrator
    /// whenever its address is verified (none: only accounts given the role are).
    pub fn new(ports: AdminPorts, admin_email: Option<EmailAddress>) -> Self {
        Self {
            users: ports.users,
            sessions: ports.sessions,
            audit_log: ports.audit_log,
            events: Events::new(ports.events, ports.clock.clone()),
            clock: ports.clock,
            revocations: ports.revocations,
            admin_email,
        }
    }
}

impl AdminService {
    /// The role that counts for `user`: [`Role::Admin`] when the address is verified
    /// and either the stored role is `admin` or the address is configured administrator address;
    /// [`Role::User`] otherwise. An account whose address is not verified is never an
    /// administrator.
    pub fn effective_role(&self, user: &User) -> Role {
        roles::effective_role(user, self.admin_email.as_ref())
    }

    /// Whether `user` is the verified configured administrator account, whose role comes from the
    /// configuration and which other administrators cannot demote, disable or delete.
    fn is_configured_admin(&self, user: &User) -> bool {
        roles::is_configured_admin(user, self.admin_email.as_ref())
    }

    /// Checks that the caller is an administrator.
    ///
    /// # Errors
    /// [`AdminError::NotAnAdministrator`] otherwise (logged at INFO with the account id, not
    /// audited).
    pub fn authorize(
        &self,
        principal: Principal,
        client: &ClientContext,
    ) -> Result<Administrator, AdminError> {
        if self.effective_role(&principal.user) == Role::Admin {
            return Ok(Administrator { user: principal.user, ip: client.ip });
        }
        tracing::info!(user_id = %principal.user.id, "admin API refused: the caller is not an administrator");
        Err(AdminError::NotAnAdministrator)
    }

    /// A page of accounts, newest first, optionally only those whose address contains
    /// a text.
    ///
    /// # Errors
    /// [`AdminError::Validation`] for a search longer than [`MAX_SEARCH_CHARS`] or a
    /// limit of 0; a failure.
    pub async fn list_users(
        &self,
        admin: &Administrator,
        search: UserSearch,
    ) -> Result<UserPage, AdminError> {
        let size = page_size(search.limit)?;
        let query = UserListQuery {
            email_contains: search_text(search.email_contains)?,
            before: search.after,
            limit: size + 1,
        };
        let users = self.users.list(&query).await?;
        let (users, next) = paginate(users, size, |user| user.id);
        self.record(admin, AdminAction::ListUsers, None).await?;
        Ok(UserPage { users, next })
    }

    /// One account.
    ///
    /// # Errors
    /// [`AdminError::UserNotFound`] when no account has the id; a failure.
    pub async fn find_user(&self, admin: &Administrator, id: UserId) -> Result<User, AdminError> {
        let user = self.target(id).await?;
        self.record(admin, AdminAction::ViewUser, Some(&user)).await?;
        Ok(user)
    }

    /// Disables an account and ends all its sessions at once: its tokens stop working
    /// and it cannot sign in until enabled again.
    ///
    /// # Errors
    /// [`AdminError::ActionRefused`] for the caller's own account or the configured administrator address
    /// account; [`AdminError::UserNotFound`]; a failure.
    pub async fn disable_user(&self, admin: &Administrator, id: UserId) -> Result<User, AdminError> {
        self.refuse_self(admin, id, "administrators cannot disable their own account")?;
        let target = self.target(id).await?;
        if self.is_configured_admin(&target) {
            return Err(AdminError::ActionRefused("the configured administrator account cannot be disabled"));
        }
        let now = self.clock.now();
        let user = self.users.set_disabled(id, true, now).await?.ok_or(AdminError::UserNotFound)?;
        let ended = self.sessions.revoke_all_for_user(id, now).await?;
        self.revocations.account_changed(id).await;
        tracing::info!(user_id = %id, sessions_ended = ended, "account disabled");
        self.record(admin, AdminAction::DisableUser, Some(&user)).await?;
        Ok(user)
    }

    /// Enables a disabled account. Sessions ended when it was disabled stay ended.
    ///
    /// # Errors
    /// [`AdminError::UserNotFound`]; a failure.
    pub async fn enable_user(&self, admin: &Administrator, id: UserId) -> Result<User, AdminError> {
        let user =
            self.users.set_disabled(id, false, self.clock.now()).await?.ok_or(AdminError::UserNotFound)?;
        self.revocations.account_changed(id).await;
        self.record(admin, AdminAction::EnableUser, Some(&user)).await?;
        Ok(user)
    }

    /// Deletes an account, its sessions and its linked identities. Its tokens stop
    /// working; the address may register again as a new account.
    ///
    /// # Errors
    /// [`AdminError::ActionRefused`] for the caller's own account or the configured administrator address
    /// account; [`AdminError::UserNotFound`]; a failure.
    pub async fn delete_user(&self, admin: &Administrator, id: UserId) -> Result<(), AdminError> {
        self.refuse_self(admin, id, "administrators cannot delete their own account")?;
        let target = self.target(id).await?;
        if self.is_configured_admin(&target) {
            return Err(AdminError::ActionRefused("the configured administrator account cannot be deleted"));
        }
        // Ended first, so stores that keep sessions apart from accounts hold none live.
        self.sessions.revoke_all_for_user(id, self.clock.now()).await?;
        let deleted = self.users.delete(id).await?;
        self.revocations.account_changed(id).await;
        if !deleted {
            return Err(AdminError::UserNotFound);
        }
        tracing::info!(user_id = %id, "account deleted");
        self.events.emit(id, AuthEventKind::UserDeleted).await;
        self.record(admin, AdminAction::DeleteUser, Some(&target)).await
    }

    /// Ends every session of an account; returns how many were active.
    ///
    /// # Errors
    /// [`AdminError::UserNotFound`]; a failure.
    pub async fn revoke_user_sessions(&self, admin: &Administrator, id: UserId) -> Result<u64, AdminError> {
        let target = self.target(id).await?;
        let ended = self.sessions.revoke_all_for_user(id, self.clock.now()).await?;
        self.revocations.account_changed(id).await;
        tracing::info!(user_id = %id, sessions_ended = ended, "sessions ended by an administrator");
        let revoked = AuthEventKind::SessionRevoked { session_id: None, by: RevokedBy::Admin };
        self.events.emit(id, revoked).await;
        self.record(admin, AdminAction::RevokeSessions, Some(&target)).await?;
        Ok(ended)
    }

    /// Grants or takes away the administrator role of another account.
    ///
    /// # Errors
    /// [`AdminError::ActionRefused`] for the caller's own account, for demoting the
    /// configured administrator account, or for granting the role to an account whose address is
    /// not verified; [`AdminError::UserNotFound`]; a failure.
    pub async fn set_user_role(
        &self,
        admin: &Administrator,
        id: UserId,
        role: Role,
    ) -> Result<User, AdminError> {
        self.refuse_self(admin, id, "administrators cannot change their own role")?;
        let target = self.target(id).await?;
        match role {
            Role::User if self.is_configured_admin(&target) => {
                return Err(AdminError::ActionRefused(
                    "the configured administrator account is an administrator by configuration and cannot be demoted",
                ));
            }
            Role::Admin if !target.is_verified() => {
                return Err(AdminError::ActionRefused(
                    "only an account with a verified address can be made an administrator",
                ));
            }
            Role::User | Role::Admin => {}
        }
        let user = self.users.set_role(id, role, self.clock.now()).await?.ok_or(AdminError::UserNotFound)?;
        self.revocations.account_changed(id).await;
        tracing::info!(user_id = %id, role = %role, "role changed by an administrator");
        let action = match role {
            Role::Admin => AdminAction::GrantAdmin,
            Role::User => AdminAction::RevokeAdmin,
        };
        self.record(admin, action, Some(&user)).await?;
        Ok(user)
    }

    /// A page of the audit log, newest first. Reading it is itself recorded, after the
    /// page is read.
    ///
    /// # Errors
    /// [`AdminError::Validation`] for a limit of 0; a failure.
    pub async fn audit_log(
        &self,
        admin: &Administrator,
        after: Option<AuditEntryId>,
        limit: Option<usize>,
    ) -> Result<AuditPage, AdminError> {
        let size = page_size(limit)?;
        let entries = self.audit_log.list(after, size + 1).await?;
        let (entries, next) = paginate(entries, size, |entry| entry.id);
        self.record(admin, AdminAction::ViewAuditLog, None).await?;
        Ok(AuditPage { entries, next })
    }

    fn refuse_self(&self, admin: &Administrator, id: UserId, why: &'static str) -> Result<(), AdminError> {
        if admin.user.id == id { Err(AdminError::ActionRefused(why)) } else { Ok(()) }
    }

    async fn target(&self, id: UserId) -> Result<User, AdminError> {
        self.users.find_by_id(id).await?.ok_or(AdminError::UserNotFound)
    }

    /// Appends the audit entry of an action that has taken effect. If that fails, the
    /// action stands and the failure is returned and logged with what was done.
    async fn record(
        &self,
        admin: &Administrator,
        action: AdminAction,
        target: Option<&User>,
    ) -> Result<(), AdminError> {
        let entry = AuditEntry {
            id: AuditEntryId::generate(),
            at: self.clock.now(),
            actor_id: admin.user.id,
            actor_email: admin.user.email.clone(),
            action,
            target_id: target.map(|user| user.id),
            target_email: target.map(|user| user.email.clone()),
            ip: admin.ip,
        };
        let target_id = entry.target_id.map(|id| id.to_string());
        match self.audit_log.append(&entry).await {
            Ok(()) => {
                tracing::info!(actor_id = %admin.user.id, %action, target_id, "admin action");
                Ok(())
            }
            Err(error) => {
                tracing::error!(
                    actor_id = %admin.user.id, %action, target_id, %error,
                    "admin action taken but not written to the audit log"
                );
                Err(error.into())
            }
        }
    }
}
