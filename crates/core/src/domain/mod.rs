//! Domain types: validated values and the records the ports store.

mod audit;
mod auth_method;
mod client;
mod code_purpose;
mod device;
mod email;
mod event;
mod ids;
mod locale;
mod mail;
mod otp_code;
mod password;
mod password_strength;
mod role;
mod session;
mod user;

pub use audit::{AdminAction, AuditEntry};
pub use auth_method::{AuthMethod, MAX_PROVIDER_NAME_CHARS};
pub use client::{ClientContext, MAX_USER_AGENT_CHARS, PresentedToken};
pub use code_purpose::{AccountAction, CodePurpose};
pub use device::Device;
pub use email::{EmailAddress, MAX_EMAIL_LENGTH};
pub use event::{AuthEvent, AuthEventKind, EventId, RevokedBy};
pub use ids::{AuditEntryId, DeviceId, OutboxId, SessionId, UserId};
pub use locale::{InvalidLocale, Locale, MAX_LOCALE_CHARS};
pub use mail::{MailKind, MailMessage, SecretLink};
pub use otp_code::{MAX_CODE_LENGTH, MIN_CODE_LENGTH, OtpCode};
pub use password::{
    HashScheme, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Password, PasswordHash, UnsupportedHash,
};
pub use password_strength::{MAX_STRENGTH, MIN_STRENGTH, PasswordStrength, WeakPassword};
pub use role::Role;
pub use session::Session;
pub use user::{RegistrationBinding, User};
