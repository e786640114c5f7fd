//! Who is an administrator.

use crate::domain::{EmailAddress, Role, User};

/// Whether `user` is the verified configured administrator account.
pub(super) fn is_configured_admin(user: &User, admin_email: Option<&EmailAddress>) -> bool {
    user.is_verified() && admin_email == Some(&user.email)
}

/// The role that counts for `user` (see [`super::AdminService::effective_role`]).
pub(crate) fn effective_role(user: &User, admin_email: Option<&EmailAddress>) -> Role {
    if user.is_verified() && (user.role == Role::Admin || is_configured_admin(user, admin_email)) {
        Role::Admin
    } else {
        Role::User
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
}
