#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod audit_log;
mod by_account;
mod clock;
mod codes;
mod devices;
mod folder_mailer;
mod identities;
mod lock;
mod oauth_states;
mod outbox;
mod probe;
mod rate_limiter;
mod recording_mailer;
mod revocations;
mod sessions;
mod users;
mod webhooks;

pub use audit_log::MemoryAuditLog;
pub use clock::ManualClock;
pub use codes::MemoryCodeStore;
pub use devices::MemoryDeviceRepository;
pub use folder_mailer::FolderMailer;
pub use identities::MemoryIdentityRepository;
pub use oauth_states::MemoryOAuthStateStore;
pub use outbox::MemoryOutbox;
pub use probe::MemoryProbe;
pub use rate_limiter::MemoryRateLimiter;
pub use recording_mailer::RecordingMailer;
pub use revocations::MemoryRevocationChannel;
pub use sessions::MemorySessionRepository;
pub use users::MemoryUserRepository;
pub use webhooks::{MemoryWebhookOutbox, WEBHOOK_OUTBOX_CAPACITY};

use std::sync::Arc;

use otp_core::Stores;

/// Every store on its in-memory adapter (a fresh, empty one each).
pub fn memory_stores() -> Stores {
    let sessions = Arc::new(MemorySessionRepository::new());
    let devices = Arc::new(MemoryDeviceRepository::new());
    Stores {
        users: Arc::new(MemoryUserRepository::with_stores(sessions.clone(), devices.clone())),
        sessions,
        devices,
        identities: Arc::new(MemoryIdentityRepository::new()),
        oauth_states: Arc::new(MemoryOAuthStateStore::new()),
        codes: Arc::new(MemoryCodeStore::new()),
        rate_limiter: Arc::new(MemoryRateLimiter::new()),
        audit_log: Arc::new(MemoryAuditLog::new()),
        revocations: Arc::new(MemoryRevocationChannel::new()),
    }
}
