//! The port contract suites, run against the in-memory adapters.

use std::sync::Arc;

use otp_core::ports::{
    AuditLog, CodeStore, DeviceRepository, IdentityRepository, MailOutbox, OAuthStateStore, RateLimiter,
    SessionRepository, UserRepository,
};
use otp_core::testing::{AccountStorage, WithOwners};
use otp_memory::{
    MemoryAuditLog, MemoryCodeStore, MemoryDeviceRepository, MemoryIdentityRepository, MemoryOAuthStateStore,
    MemoryOutbox, MemoryRateLimiter, MemorySessionRepository, MemoryUserRepository,
};

/// Account, session and device stores that see each other, as the server wires them.
fn account_storage() -> AccountStorage {
    let sessions = Arc::new(MemorySessionRepository::new());
    let devices = Arc::new(MemoryDeviceRepository::new());
    let users = Arc::new(MemoryUserRepository::with_stores(sessions.clone(), devices.clone()));
    AccountStorage { users, sessions, devices }
}

mod users {
    use super::*;
    otp_core::user_repository_contract!(async {
        Arc::new(MemoryUserRepository::new()) as Arc<dyn UserRepository>
    });

    mod first_sign_in {
        use super::*;
        otp_core::user_repository_first_sign_in_contract!(async { account_storage() });
    }
}

mod sessions {
    use super::*;
    otp_core::session_repository_contract!(async {
        let sessions = Arc::new(MemorySessionRepository::new());
        let users = Arc::new(MemoryUserRepository::with_stores(sessions.clone(), Arc::default()));
        WithOwners::new(sessions as Arc<dyn SessionRepository>, users)
    });
}

mod sessions_on_devices {
    use super::*;
    otp_core::session_on_device_contract!(async { account_storage() });
}

mod account_standing {
    use super::*;
    otp_core::user_repository_standing_contract!(async { account_storage() });
}

mod devices {
    use super::*;
    otp_core::device_repository_contract!(async {
        let devices: Arc<dyn DeviceRepository> = Arc::new(MemoryDeviceRepository::new());
        WithOwners::new(devices, Arc::new(MemoryUserRepository::new()))
    });
}

mod identities {
    use super::*;
    otp_core::identity_repository_contract!(async {
        let identities: Arc<dyn IdentityRepository> = Arc::new(MemoryIdentityRepository::new());
        WithOwners::new(identities, Arc::new(MemoryUserRepository::new()))
    });
}

mod codes {
    use super::*;
    otp_core::code_store_contract!(async { Arc::new(MemoryCodeStore::new()) as Arc<dyn CodeStore> });
}

mod rate_limits {
    use super::*;
    otp_core::rate_limiter_contract!(async { Arc::new(MemoryRateLimiter::new()) as Arc<dyn RateLimiter> });
}

/// The in-memory stores are apart: the code store answers `None` and does nothing.
mod codes_within_limits {
    use otp_core::testing::codes_within::CodesBesideLimits;

    use super::*;
    otp_core::code_store_within_limits_contract!(async {
        CodesBesideLimits {
            codes: Arc::new(MemoryCodeStore::new()),
            limiter: Arc::new(MemoryRateLimiter::new()),
        }
    });
}

mod oauth_states {
    use super::*;
    otp_core::oauth_state_store_contract!(async {
        Arc::new(MemoryOAuthStateStore::new()) as Arc<dyn OAuthStateStore>
    });
}

mod outbox {
    use super::*;
    otp_core::mail_outbox_contract!(async { Arc::new(MemoryOutbox::new()) as Arc<dyn MailOutbox> });
}

mod audit {
    use super::*;
    otp_core::audit_log_contract!(async { Arc::new(MemoryAuditLog::new()) as Arc<dyn AuditLog> });
}

mod revocations {
    use otp_core::ports::RevocationChannel;
    use otp_memory::MemoryRevocationChannel;

    use super::*;
    otp_core::revocation_channel_contract!(async {
        Arc::new(MemoryRevocationChannel::new()) as Arc<dyn RevocationChannel>
    });
}

mod webhooks {
    use super::*;
    use otp_core::ports::WebhookOutbox;
    use otp_memory::MemoryWebhookOutbox;
    otp_core::webhook_outbox_contract!(async {
        Arc::new(MemoryWebhookOutbox::new()) as Arc<dyn WebhookOutbox>
    });
}
