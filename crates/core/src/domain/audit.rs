//! The audit log's record of what an administrator did.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use time::OffsetDateTime;

use super::{AuditEntryId, EmailAddress, UserId};
use crate::error::ValidationError;

/// What an administrator did through the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminAction {
    /// Listed or searched accounts.
    ListUsers,
    /// Looked at one account.
    ViewUser,
    /// Disabled an account and ended its sessions.
    DisableUser,
    /// Enabled an account again.
    EnableUser,
    /// Deleted an account with its sessions and linked identities.
    DeleteUser,
    /// Ended every session of an account.
    RevokeSessions,
    /// Made an account an administrator.
    GrantAdmin,
    /// Took the administrator role from an account.
    RevokeAdmin,
    /// Read the audit log.
    ViewAuditLog,
}

impl AdminAction {
    /// Every action, in the order documented.
    pub const ALL: [Self; 9] = [
        Self::ListUsers,
        Self::ViewUser,
        Self::DisableUser,
        Self::EnableUser,
        Self::DeleteUser,
        Self::RevokeSessions,
        Self::GrantAdmin,
        Self::RevokeAdmin,
        Self::ViewAuditLog,
    ];

    /// The action's name as stored and shown (`disable_user`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListUsers => "list_users",
            Self::ViewUser => "view_user",
            Self::DisableUser => "disable_user",
            Self::EnableUser => "enable_user",
            Self::DeleteUser => "delete_user",
            Self::RevokeSessions => "revoke_sessions",
            Self::GrantAdmin => "grant_admin",
            Self::RevokeAdmin => "revoke_admin",
            Self::ViewAuditLog => "view_audit_log",
        }
    }
}

impl fmt::Display for AdminAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdminAction {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == raw)
            .ok_or_else(|| ValidationError::new("action", "is not a known admin action"))
    }
}

/// One line of the audit log: who did what to whom, when, and from where. It holds
/// no secret (no token, code or password), and outlives the accounts it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Time-ordered identifier.
    pub id: AuditEntryId,
    /// When the action was taken.
    pub at: OffsetDateTime,
    /// The administrator.
    pub actor_id: UserId,
    /// The administrator's address at the time.
    pub actor_email: EmailAddress,
    /// What was done.
    pub action: AdminAction,
    /// The account acted on, for actions on one account.
    pub target_id: Option<UserId>,
    /// That account's address at the time (kept after the account is deleted).
    pub target_email: Option<EmailAddress>,
    /// The client address the administrator's request came from, when known.
    pub ip: Option<IpAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in AdminAction::ALL {
            assert_eq!(action.as_str().parse::<AdminAction>().unwrap(), action);
        }
        assert!("drop_tables".parse::<AdminAction>().is_err());
    }
}
