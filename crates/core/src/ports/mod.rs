//! Port traits: what the domain needs from the outside world.
//!
//! Each trait is object-safe and `Send + Sync`; the domain holds them as
//! `Arc<dyn Trait>`. Adapters translate their own failures into [`crate::PortError`].

mod audit_log;
mod clock;
mod code_store;
mod device_repository;
mod events;
mod identity_repository;
mod limit;
mod mail_outbox;
mod mailer;
mod oauth_provider;
mod oauth_state_store;
mod probe;
mod rate_limiter;
mod revocation_channel;
mod session_on_device;
mod session_repository;
mod user_repository;
mod webhook_outbox;

pub use audit_log::AuditLog;
pub use clock::{Clock, SystemClock};
pub use code_store::{CodeKey, CodeStore, IssueOutcome, NewCode, VerifyOutcome, Within};
pub use device_repository::{ClientStanding, DeviceRepository};
pub use events::EventPublisher;
pub use identity_repository::{IdentityRepository, LinkedIdentity};
pub use limit::{beyond_limit, device_unused_first, session_unused_first};
pub use mail_outbox::{ClaimedMessage, MailOutbox, NewOutboxMessage};
pub use mailer::{MailComposer, Mailer};
pub use oauth_provider::{AuthorizationRequest, CodeExchange, OAuthError, OAuthProvider, ProviderIdentity};
pub use oauth_state_store::{EXPIRED_STATE_RETENTION, OAuthStateStore, PendingAuthorization};
pub use probe::Probe;
pub use rate_limiter::{RateDecision, RateLimit, RateLimiter, hit_in_turn};
pub use revocation_channel::{
    MalformedRevocation, Revocation, RevocationChannel, RevocationFeed, RevocationNotice,
};
pub use session_on_device::{DeviceRecorded, DeviceSignIn, OpenedOnDevice};
pub use session_repository::{RETIRED_REFRESH_HASHES, RotateOutcome, SessionRepository};
pub use user_repository::{AccountStanding, UserListQuery, UserRepository};
pub use webhook_outbox::{ClaimedWebhook, NewWebhook, WebhookOutbox, WebhookRequest, WebhookSender};
