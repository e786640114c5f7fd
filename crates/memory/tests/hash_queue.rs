//! A full password-hashing queue refuses a password reset before its code is used up,
//! however late in the reset the queue fills: here it fills during the reset's own
//! rate-limit check, after the early peek has passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use otp_core::crypto::{Argon2Settings, HashRoom, PasswordHasher};
use otp_core::ports::{RateDecision, RateLimit, RateLimiter};
use otp_core::{ClientContext, EmailAddress, OtpCode, Password, PortError, SignInError};
use otp_memory::{MemoryRateLimiter, memory_stores};
use time::OffsetDateTime;

/// A rate limiter that, once armed, takes the hasher's last room at its next call and
/// holds it until the test lets it go: the queue fills between a route's peek and its
/// code check.
#[derive(Debug)]
struct FillsTheQueue {
    inner: MemoryRateLimiter,
    hasher: PasswordHasher,
    armed: AtomicBool,
    held: Mutex<Option<HashRoom>>,
}

impl FillsTheQueue {
    fn fill_if_armed(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            *self.held.lock().unwrap() = Some(self.hasher.reserve().expect("the hasher was idle"));
        }
    }

    fn let_go(&self) {
        self.held.lock().unwrap().take();
    }
}

#[async_trait]
impl RateLimiter for FillsTheQueue {
    async fn hit(&self, key: &str, limit: RateLimit, now: OffsetDateTime) -> Result<RateDecision, PortError> {
        self.fill_if_armed();
        self.inner.hit(key, limit, now).await
    }

    async fn hit_each(
        &self,
        hits: &[(&str, RateLimit)],
        now: OffsetDateTime,
    ) -> Result<Vec<RateDecision>, PortError> {
        self.fill_if_armed();
        self.inner.hit_each(hits, now).await
    }
}

#[tokio::test]
async fn a_reset_refused_as_busy_after_its_rate_limit_check_keeps_its_code() {
    // One worker and no queue: a single held room fills it.
    let hasher = PasswordHasher::with_queue(Argon2Settings::OWASP, 1, 0).unwrap();
    let limiter = Arc::new(FillsTheQueue {
        inner: MemoryRateLimiter::new(),
        hasher: hasher.clone(),
        armed: AtomicBool::new(false),
        held: Mutex::new(None),
    });
    let mut stores = memory_stores();
    stores.rate_limiter = limiter.clone();
    let (services, mailer) = support::services(stores, hasher);
    let email = EmailAddress::parse("ann@example.com").unwrap();
    let client = ClientContext::new(Some("192.0.2.7".parse().unwrap()), Some("tests"));
    services.sign_in.send_code(&email, &client).await.unwrap();
    let code = OtpCode::parse(&mailer.last_code_for(&email).unwrap(), 6).unwrap();
    services.sign_in.verify_code(&email, &code, &client).await.unwrap();
    services.sign_in.forgot_password(&email, &client).await.unwrap();
    let code = OtpCode::parse(&mailer.last_code_for(&email).unwrap(), 6).unwrap();
    let new_password = || Password::new("plum kettle harbour violin".to_owned()).unwrap();

    limiter.armed.store(true, Ordering::SeqCst);
    let refused = services.sign_in.reset_password(&email, &code, new_password(), &client).await;
    assert!(matches!(refused, Err(SignInError::Busy { .. })), "{refused:?}");

    limiter.let_go();
    services
        .sign_in
        .reset_password(&email, &code, new_password(), &client)
        .await
        .expect("the code is still good");
}
