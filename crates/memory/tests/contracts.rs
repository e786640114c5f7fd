//! The port contract suites, run against the in-memory adapters.

use std::sync::Arc;

use otp_core::ports::{
    CodeStore, IdentityRepository, OAuthStateStore, RateLimiter, SessionRepository, UserRepository,
};
use otp_memory::{
    MemoryCodeStore, MemoryIdentityRepository, MemoryOAuthStateStore, MemoryRateLimiter,
    MemorySessionRepository, MemoryUserRepository,
};

mod users {
    use super::*;
    otp_core::user_repository_contract!(async {
        Arc::new(MemoryUserRepository::new()) as Arc<dyn UserRepository>
    });
}

mod sessions {
    use super::*;
    otp_core::session_repository_contract!(async {
        Arc::new(MemorySessionRepository::new()) as Arc<dyn SessionRepository>
    });
}

mod identities {
    use super::*;
    otp_core::identity_repository_contract!(async {
        Arc::new(MemoryIdentityRepository::new()) as Arc<dyn IdentityRepository>
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

mod oauth_states {
    use super::*;
    otp_core::oauth_state_store_contract!(async {
        Arc::new(MemoryOAuthStateStore::new()) as Arc<dyn OAuthStateStore>
    });
}
