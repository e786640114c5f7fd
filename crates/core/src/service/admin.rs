//! The admin API's use cases: accounts and the audit log, for administrators only.
//!
//! Who is an administrator is decided here ([`AuthService::effective_role`]): an
//! account with a verified address whose stored role is `admin`, or whose address is
//! the configured `ADMIN_EMAIL`. Every use case takes an [`Administrator`], which only
//! [`AuthService::authorize_admin`] makes, and writes one [`AuditEntry`] once it has
//! taken effect.

use std::net::IpAddr;

use super::{AuthService, Principal};
use crate::UserId;
use crate::domain::{
    AdminAction, AuditEntry, AuditEntryId, ClientContext, EmailAddress, MAX_EMAIL_LENGTH, Role, User,
};
use crate::error::{AuthError, ValidationError};
use crate::ports::UserListQuery;

/// Most entries one page holds; larger requests are cut to this.
pub const MAX_PAGE_SIZE: usize = 100;
/// Entries per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Longest address search accepted, in characters (the longest address).
pub const MAX_SEARCH_CHARS: usize = MAX_EMAIL_LENGTH;

/// Proof that the caller is an administrator, with the address the request came from.
/// Only [`AuthService::authorize_admin`] makes one.
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

/// What to list: an optional address search, a cursor and a page size, as the client
/// gave them; [`AuthService::list_users`] checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSearch {
    /// Text the address must contain (case-insensitive; blank means every account).
    pub email_contains: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<UserId>,
    /// Accounts per page: at least 1; [`DEFAULT_PAGE_SIZE`] when unset; more than
    /// [`MAX_PAGE_SIZE`] is cut to it.
    pub limit: Option<usize>,
}

/// One page of accounts, newest first.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// The accounts.
    pub users: Vec<User>,
    /// The cursor of the next page, when there is one.
    pub next: Option<UserId>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next page, when there is one.
    pub next: Option<AuditEntryId>,
}

fn page_size(limit: Option<usize>) -> Result<usize, ValidationError> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(0) => Err(ValidationError::new("limit", "must be at least 1")),
        Some(limit) => Ok(limit.min(MAX_PAGE_SIZE)),
    }
}

fn search_text(raw: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(text) = raw.map(|text| text.trim().to_lowercase()).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(ValidationError::new("q", "must be at most 254 characters"));
    }
    // No address holds one, and some stores cannot even compare with one (NUL).
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new("q", "must not contain control characters"));
    }
    Ok(Some(text))
}

/// Splits one extra item off a page fetched with `size + 1`: its presence means there
/// is a next page, which starts after the last item kept.
fn paginate<T, C>(mut items: Vec<T>, size: usize, cursor: impl Fn(&T) -> C) -> (Vec<T>, Option<C>) {
    let more = items.len() > size;
    items.truncate(size);
    let next = if more { items.last().map(cursor) } else { None };
    (items, next)
}

fn is_configured_admin(user: &User, admin_email: Option<&EmailAddress>) -> bool {
    user.is_verified() && admin_email == Some(&user.email)
}

fn effective_role(user: &User, admin_email: Option<&EmailAddress>) -> Role {
    if user.is_verified() && (user.role == Role::Admin || is_configured_admin(user, admin_email)) {
        Role::Admin
    } else {
        Role::User
    }
}

impl AuthService {
    /// The role that counts for `user`: [`Role::Admin`] when the address is verified
    /// and either the stored role is `admin` or the address is `ADMIN_EMAIL`;
    /// [`Role::User`] otherwise. An account whose address is not verified is never an
    /// administrator.
    pub fn effective_role(&self, user: &User) -> Role {
        effective_role(user, self.policy.admin_email.as_ref())
    }

    /// Whether `user` is the verified `ADMIN_EMAIL` account, whose role comes from the
    /// configuration and which other administrators cannot demote, disable or delete.
    fn is_configured_admin(&self, user: &User) -> bool {
        is_configured_admin(user, self.policy.admin_email.as_ref())
    }

    /// Checks that the caller is an administrator.
    ///
    /// # Errors
    /// [`AuthError::Forbidden`] otherwise (logged at INFO with the account id, not
    /// audited).
    pub fn authorize_admin(
        &self,
        principal: Principal,
        client: &ClientContext,
    ) -> Result<Administrator, AuthError> {
        if self.effective_role(&principal.user) == Role::Admin {
            return Ok(Administrator { user: principal.user, ip: client.ip });
        }
        tracing::info!(user_id = %principal.user.id, "admin API refused: the caller is not an administrator");
        Err(AuthError::Forbidden("this needs an administrator"))
    }

    /// A page of accounts, newest first, optionally only those whose address contains
    /// a text.
    ///
    /// # Errors
    /// [`AuthError::Validation`] for a search longer than [`MAX_SEARCH_CHARS`] or a
    /// limit of 0; a port failure.
    pub async fn list_users(&self, admin: &Administrator, search: UserSearch) -> Result<UserPage, AuthError> {
        let size = page_size(search.limit)?;
        let query = UserListQuery {
            email_contains: search_text(search.email_contains)?,
            before: search.after,
            limit: size + 1,
        };
        let users = self.ports.users.list(&query).await?;
        let (users, next) = paginate(users, size, |user| user.id);
        self.record(admin, AdminAction::ListUsers, None).await?;
        Ok(UserPage { users, next })
    }

    /// One account.
    ///
    /// # Errors
    /// [`AuthError::NotFound`] when no account has the id; a port failure.
    pub async fn find_user(&self, admin: &Administrator, id: UserId) -> Result<User, AuthError> {
        let user = self.target(id).await?;
        self.record(admin, AdminAction::ViewUser, Some(&user)).await?;
        Ok(user)
    }

    /// Disables an account and ends all its sessions at once: its tokens stop working
    /// and it cannot sign in until enabled again.
    ///
    /// # Errors
    /// [`AuthError::ActionRefused`] for the caller's own account or the `ADMIN_EMAIL`
    /// account; [`AuthError::NotFound`]; a port failure.
    pub async fn disable_user(&self, admin: &Administrator, id: UserId) -> Result<User, AuthError> {
        self.refuse_self(admin, id, "administrators cannot disable their own account")?;
        let target = self.target(id).await?;
        if self.is_configured_admin(&target) {
            return Err(AuthError::ActionRefused("the ADMIN_EMAIL account cannot be disabled"));
        }
        let now = self.now();
        let user = self.ports.users.set_disabled(id, true, now).await?.ok_or(AuthError::NotFound("user"))?;
        let ended = self.ports.sessions.revoke_all_for_user(id, now).await?;
        tracing::info!(user_id = %id, sessions_ended = ended, "account disabled");
        self.record(admin, AdminAction::DisableUser, Some(&user)).await?;
        Ok(user)
    }

    /// Enables a disabled account. Sessions ended when it was disabled stay ended.
    ///
    /// # Errors
    /// [`AuthError::NotFound`]; a port failure.
    pub async fn enable_user(&self, admin: &Administrator, id: UserId) -> Result<User, AuthError> {
        let user =
            self.ports.users.set_disabled(id, false, self.now()).await?.ok_or(AuthError::NotFound("user"))?;
        self.record(admin, AdminAction::EnableUser, Some(&user)).await?;
        Ok(user)
    }

    /// Deletes an account, its sessions and its linked identities. Its tokens stop
    /// working; the address may register again as a new account.
    ///
    /// # Errors
    /// [`AuthError::ActionRefused`] for the caller's own account or the `ADMIN_EMAIL`
    /// account; [`AuthError::NotFound`]; a port failure.
    pub async fn delete_user(&self, admin: &Administrator, id: UserId) -> Result<(), AuthError> {
        self.refuse_self(admin, id, "administrators cannot delete their own account")?;
        let target = self.target(id).await?;
        if self.is_configured_admin(&target) {
            return Err(AuthError::ActionRefused("the ADMIN_EMAIL account cannot be deleted"));
        }
        // Ended first, so stores that keep sessions apart from accounts hold none live.
        self.ports.sessions.revoke_all_for_user(id, self.now()).await?;
        if !self.ports.users.delete(id).await? {
            return Err(AuthError::NotFound("user"));
        }
        tracing::info!(user_id = %id, "account deleted");
        self.record(admin, AdminAction::DeleteUser, Some(&target)).await
    }

    /// Ends every session of an account; returns how many were active.
    ///
    /// # Errors
    /// [`AuthError::NotFound`]; a port failure.
    pub async fn revoke_user_sessions(&self, admin: &Administrator, id: UserId) -> Result<u64, AuthError> {
        let target = self.target(id).await?;
        let ended = self.ports.sessions.revoke_all_for_user(id, self.now()).await?;
        tracing::info!(user_id = %id, sessions_ended = ended, "sessions ended by an administrator");
        self.record(admin, AdminAction::RevokeSessions, Some(&target)).await?;
        Ok(ended)
    }

    /// Grants or takes away the administrator role of another account.
    ///
    /// # Errors
    /// [`AuthError::ActionRefused`] for the caller's own account, for demoting the
    /// `ADMIN_EMAIL` account, or for granting the role to an account whose address is
    /// not verified; [`AuthError::NotFound`]; a port failure.
    pub async fn set_user_role(
        &self,
        admin: &Administrator,
        id: UserId,
        role: Role,
    ) -> Result<User, AuthError> {
        self.refuse_self(admin, id, "administrators cannot change their own role")?;
        let target = self.target(id).await?;
        match role {
            Role::User if self.is_configured_admin(&target) => {
                return Err(AuthError::ActionRefused(
                    "the ADMIN_EMAIL account is an administrator by configuration and cannot be demoted",
                ));
            }
            Role::Admin if !target.is_verified() => {
                return Err(AuthError::ActionRefused(
                    "only an account with a verified address can be made an administrator",
                ));
            }
            Role::User | Role::Admin => {}
        }
        let user =
            self.ports.users.set_role(id, role, self.now()).await?.ok_or(AuthError::NotFound("user"))?;
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
    /// [`AuthError::Validation`] for a limit of 0; a port failure.
    pub async fn audit_log(
        &self,
        admin: &Administrator,
        after: Option<AuditEntryId>,
        limit: Option<usize>,
    ) -> Result<AuditPage, AuthError> {
        let size = page_size(limit)?;
        let entries = self.ports.audit_log.list(after, size + 1).await?;
        let (entries, next) = paginate(entries, size, |entry| entry.id);
        self.record(admin, AdminAction::ViewAuditLog, None).await?;
        Ok(AuditPage { entries, next })
    }

    fn refuse_self(&self, admin: &Administrator, id: UserId, why: &'static str) -> Result<(), AuthError> {
        if admin.user.id == id { Err(AuthError::ActionRefused(why)) } else { Ok(()) }
    }

    async fn target(&self, id: UserId) -> Result<User, AuthError> {
        self.ports.users.find_by_id(id).await?.ok_or(AuthError::NotFound("user"))
    }

    /// Appends the audit entry of an action that has taken effect. If that fails, the
    /// action stands and the failure is returned and logged with what was done.
    async fn record(
        &self,
        admin: &Administrator,
        action: AdminAction,
        target: Option<&User>,
    ) -> Result<(), AuthError> {
        let entry = AuditEntry {
            id: AuditEntryId::generate(),
            at: self.now(),
            actor_id: admin.user.id,
            actor_email: admin.user.email.clone(),
            action,
            target_id: target.map(|user| user.id),
            target_email: target.map(|user| user.email.clone()),
            ip: admin.ip,
        };
        let target_id = entry.target_id.map(|id| id.to_string());
        match self.ports.audit_log.append(&entry).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn account(address: &str, verified: bool, role: Role) -> User {
        let email = EmailAddress::parse(address).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let user =
            if verified { User::new_verified(email, now) } else { User::new_unverified(email, None, now) };
        User { role, ..user }
    }

    #[test]
    fn the_admin_email_account_is_an_admin_only_once_verified() {
        let root = EmailAddress::parse("root@example.com").unwrap();
        assert_eq!(effective_role(&account("root@example.com", true, Role::User), Some(&root)), Role::Admin);
        assert_eq!(effective_role(&account("root@example.com", false, Role::User), Some(&root)), Role::User);
        assert_eq!(effective_role(&account("root@example.com", true, Role::User), None), Role::User);
        assert!(!is_configured_admin(&account("root@example.com", false, Role::Admin), Some(&root)));
        assert!(is_configured_admin(&account("root@example.com", true, Role::User), Some(&root)));
    }

    #[test]
    fn a_granted_role_counts_only_while_the_address_is_verified() {
        let root = EmailAddress::parse("root@example.com").unwrap();
        assert_eq!(effective_role(&account("ann@example.com", true, Role::Admin), Some(&root)), Role::Admin);
        assert_eq!(effective_role(&account("ann@example.com", false, Role::Admin), Some(&root)), Role::User);
        assert_eq!(effective_role(&account("ann@example.com", true, Role::User), Some(&root)), Role::User);
        assert!(!is_configured_admin(&account("ann@example.com", true, Role::Admin), Some(&root)));
    }

    #[test]
    fn page_sizes_default_cap_and_refuse_zero() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(7)).unwrap(), 7);
        assert_eq!(page_size(Some(10_000)).unwrap(), MAX_PAGE_SIZE);
        assert_eq!(page_size(Some(0)).unwrap_err().field, "limit");
    }

    #[test]
    fn searches_are_trimmed_lower_cased_and_bounded() {
        assert_eq!(search_text(Some("  Ann@Example ".into())).unwrap().as_deref(), Some("ann@example"));
        assert_eq!(search_text(Some("   ".into())).unwrap(), None);
        assert_eq!(search_text(None).unwrap(), None);
        assert!(search_text(Some("a".repeat(254))).is_ok());
        assert_eq!(search_text(Some("a".repeat(255))).unwrap_err().field, "q");
        for control in ["a\0b", "a\nb", "\u{7f}"] {
            assert_eq!(search_text(Some(control.into())).unwrap_err().field, "q", "{control:?}");
        }
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_more_remain() {
        let (items, next) = paginate(vec![5, 4, 3], 2, |item| *item);
        assert_eq!((items, next), (vec![5, 4], Some(4)));
        let (items, next) = paginate(vec![5, 4], 2, |item| *item);
        assert_eq!((items, next), (vec![5, 4], None));
        let (items, next) = paginate(Vec::<u8>::new(), 2, |item| *item);
        assert_eq!((items, next), (vec![], None));
    }
}
