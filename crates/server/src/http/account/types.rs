//! Request and response bodies of the account self-service routes. Requests refuse
//! unknown fields; secrets are read into [`Secret`]s so they never print.

use otp_core::EmailAddress;
use otp_core::crypto::rfc3339;
use otp_core::ports::LinkedIdentity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::admin::types::AuditEntryView;
use crate::http::secret::Secret;
use crate::http::sessions::types::{DeviceView, SessionView, UserView};

/// A change to the account that a code confirms.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AccountActionName {
    /// `POST password/change` (for an account without a password).
    ChangePassword,
    /// `POST email/change`.
    ChangeEmail,
    /// `DELETE me`.
    DeleteAccount,
}

/// Which change to mail a confirmation code for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountCodeRequest {
    /// The change the code will confirm; a code confirms only that change.
    pub action: AccountActionName,
}

/// A code was mailed to the account's address.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccountCodeSent {
    /// What happened.
    pub message: &'static str,
    /// How long the code stays valid, in seconds.
    pub expires_in: u64,
}

/// What confirms a change: exactly one of the current password and a fresh code.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Confirmation {
    /// The account's current password.
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(default)]
    pub password: Option<Secret>,
    /// A code from `POST me/code` for this change.
    #[schema(value_type = Option<String>, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    #[serde(default)]
    pub code: Option<Secret>,
}

/// A new password, confirmed by the current one (or a code when the account has none).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePasswordRequest {
    /// The current password (for an account that has one).
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(default)]
    pub current_password: Option<Secret>,
    /// A `change_password` code from `POST me/code` (for an account without a password).
    #[schema(value_type = Option<String>, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    #[serde(default)]
    pub code: Option<Secret>,
    /// 8 to 128 characters, strong enough (`PASSWORD_MIN_STRENGTH`).
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: Secret,
}

/// The password was changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct PasswordChanged {
    /// What happened.
    pub message: &'static str,
    /// How many other sessions were ended.
    pub sessions_ended: u64,
}

/// The address to move the account to, confirmed by the password or a code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeEmailRequest {
    /// The new address.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.org")]
    pub new_email: EmailAddress,
    /// The account's current password.
    #[schema(value_type = Option<String>, format = Password)]
    #[serde(default)]
    pub password: Option<Secret>,
    /// A `change_email` code from `POST me/code`.
    #[schema(value_type = Option<String>, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    #[serde(default)]
    pub code: Option<Secret>,
}

/// The new address and the code mailed to it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmEmailRequest {
    /// The new address, as sent to `email/change`.
    #[schema(value_type = String, format = Email, max_length = 254, example = "ann@example.org")]
    pub new_email: EmailAddress,
    /// The code mailed to the new address.
    #[schema(value_type = String, pattern = r"^\s*[0-9]{4,10}\s*$", example = "123456")]
    pub code: Secret,
}

/// The token of the undo link mailed to the old address.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UndoEmailRequest {
    /// The `undo-email` value of the link.
    #[schema(value_type = String, format = Password)]
    pub token: Secret,
}

/// The account after its address changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct EmailChanged {
    /// What happened.
    pub message: &'static str,
    /// The account, at its new address.
    pub user: UserView,
}

/// Other sessions were ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct OthersRevoked {
    /// How many sessions were ended.
    pub sessions_ended: u64,
}

/// A provider identity linked to the account.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdentityView {
    /// The provider (`google`, `github`).
    pub provider: String,
    /// The provider's identifier for the person.
    pub subject: String,
    /// The verified address the provider reported when it was linked.
    #[schema(format = Email)]
    pub email: String,
    /// When it was linked (RFC 3339).
    #[schema(format = DateTime)]
    pub linked_at: String,
}

impl From<&LinkedIdentity> for IdentityView {
    fn from(identity: &LinkedIdentity) -> Self {
        Self {
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            email: identity.email.to_string(),
            linked_at: rfc3339(identity.linked_at),
        }
    }
}

/// The identities linked to the account.
#[derive(Serialize, ToSchema)]
pub(crate) struct IdentitiesResponse {
    /// Oldest first.
    pub identities: Vec<IdentityView>,
}

/// Everything held about the caller. Sent with `Cache-Control: no-store`.
#[derive(Serialize, ToSchema)]
pub(crate) struct AccountExportView {
    /// When the export was made (RFC 3339).
    #[schema(format = DateTime)]
    pub exported_at: String,
    /// The account.
    pub account: UserView,
    /// Its role (`user` or `admin`, as stored).
    pub role: &'static str,
    /// Whether an administrator disabled it.
    pub disabled: bool,
    /// When a code sent to its address was last entered (RFC 3339).
    #[schema(format = DateTime)]
    pub last_code_verified_at: Option<String>,
    /// Its active sessions, newest first.
    pub sessions: Vec<SessionView>,
    /// Its linked provider identities.
    pub identities: Vec<IdentityView>,
    /// Its remembered devices.
    pub devices: Vec<DeviceView>,
    /// The audit entries naming it, newest first (at most 1000).
    pub audit_entries: Vec<AuditEntryView>,
}
