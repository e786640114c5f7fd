//! Request and response bodies of the admin API.

use otp_core::ValidationError;
use otp_core::crypto::rfc3339;
use otp_core::domain::{AuditEntry, Role, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `GET /admin/users` query string.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserPageQuery {
    /// Text the address must contain, case-insensitively: at most 254 characters, no
    /// control characters.
    #[param(max_length = 254, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub q: Option<String>,
    /// Items per page: 1 to 100 (more is cut to 100). Default: 50.
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<String>,
}

/// `GET /admin/audit-log` query string.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditPageQuery {
    /// Entries per page: 1 to 100 (more is cut to 100). Default: 50.
    #[param(minimum = 1)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<String>, format = Uuid)]
    pub cursor: Option<String>,
}

/// `PUT /admin/users/{id}/role`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleRequest {
    /// `user` or `admin` (only a verified account may be made an admin).
    #[schema(example = "admin")]
    pub role: RoleName,
}

/// A role, by the name it is stored and shown under.
// Read through `Role`'s parser, so any other JSON value is refused with the same 422
// as an unknown name (serde's own enum reading calls a number a syntax error: 400).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase", try_from = "serde_json::Value")]
pub(crate) enum RoleName {
    /// An ordinary account.
    User,
    /// May use the admin API.
    Admin,
}

impl TryFrom<serde_json::Value> for RoleName {
    type Error = ValidationError;

    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        match value.as_str().unwrap_or_default().parse::<Role>()? {
            Role::User => Ok(Self::User),
            Role::Admin => Ok(Self::Admin),
        }
    }
}

impl From<RoleName> for Role {
    fn from(name: RoleName) -> Self {
        match name {
            RoleName::User => Role::User,
            RoleName::Admin => Role::Admin,
        }
    }
}

/// An account as administrators see it; `role` is the role that counts.
#[derive(Serialize, ToSchema)]
pub(crate) struct AdminUserView {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub email_verified_at: Option<String>,
    pub has_password: bool,
    pub role: &'static str,
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_code_verified_at: Option<String>,
}

impl AdminUserView {
    pub fn new(user: &User, role: Role) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            email_verified: user.is_verified(),
            email_verified_at: user.email_verified_at.map(rfc3339),
            has_password: user.password_hash.is_some(),
            role: role.as_str(),
            disabled: user.disabled,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
            last_code_verified_at: user.last_code_verified_at.map(rfc3339),
        }
    }
}

/// A page of accounts.
#[derive(Serialize, ToSchema)]
pub(crate) struct UsersResponse {
    pub users: Vec<AdminUserView>,
    pub next_cursor: Option<String>,
}

/// How many sessions an administrator ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsRevoked {
    pub sessions_ended: u64,
}

/// One administrator action: who, what, on whom, when, from where.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditEntryView {
    pub id: String,
    pub at: String,
    pub actor_id: String,
    pub actor_email: String,
    pub action: &'static str,
    pub target_id: Option<String>,
    pub target_email: Option<String>,
    pub ip: Option<String>,
}

/// A page of audit entries.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditLogResponse {
    pub entries: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

impl From<&AuditEntry> for AuditEntryView {
    fn from(entry: &AuditEntry) -> Self {
        Self {
            id: entry.id.to_string(),
            at: rfc3339(entry.at),
            actor_id: entry.actor_id.to_string(),
            actor_email: entry.actor_email.to_string(),
            action: entry.action.as_str(),
            target_id: entry.target_id.map(|id| id.to_string()),
            target_email: entry.target_email.as_ref().map(ToString::to_string),
            ip: entry.ip.map(|ip| ip.to_string()),
        }
    }
}
