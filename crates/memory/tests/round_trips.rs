//! How many calls each sign-in step makes to the short-lived stores (codes and rate
//! limits): on Redis, each call is one round trip (one script). Counted by wrappers
//! around the in-memory adapters, which the Redis adapters mirror call for call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use otp_core::crypto::{Argon2Settings, CodeHash, PasswordHasher};
use otp_core::ports::{
    CodeKey, CodeStore, IssueOutcome, NewCode, RateDecision, RateLimit, RateLimiter, VerifyOutcome,
};
use otp_core::{ClientContext, EmailAddress, OtpCode, PortError};
use otp_memory::{MemoryCodeStore, MemoryRateLimiter, memory_stores};
use time::OffsetDateTime;

/// Calls made so far.
#[derive(Debug, Default)]
struct Calls(AtomicUsize);

impl Calls {
    fn one(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

#[derive(Debug)]
struct CountedLimiter(MemoryRateLimiter, Arc<Calls>);

#[async_trait]
impl RateLimiter for CountedLimiter {
    async fn hit(&self, key: &str, limit: RateLimit, now: OffsetDateTime) -> Result<RateDecision, PortError> {
        self.1.one();
        self.0.hit(key, limit, now).await
    }

    async fn hit_each(
        &self,
        hits: &[(&str, RateLimit)],
        now: OffsetDateTime,
    ) -> Result<Vec<RateDecision>, PortError> {
        self.1.one();
        self.0.hit_each(hits, now).await
    }
}

#[derive(Debug)]
struct CountedCodes(MemoryCodeStore, Arc<Calls>);

#[async_trait]
impl CodeStore for CountedCodes {
    async fn issue(
        &self,
        key: &CodeKey,
        code: &NewCode,
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, PortError> {
        self.1.one();
        self.0.issue(key, code, now).await
    }

    async fn verify(
        &self,
        key: &CodeKey,
        candidate: &CodeHash,
        now: OffsetDateTime,
    ) -> Result<VerifyOutcome, PortError> {
        self.1.one();
        self.0.verify(key, candidate, now).await
    }
}

#[tokio::test]
async fn send_otp_takes_two_calls_and_verify_otp_two() {
    let calls = Arc::new(Calls::default());
    let mut stores = memory_stores();
    stores.rate_limiter = Arc::new(CountedLimiter(MemoryRateLimiter::new(), calls.clone()));
    stores.codes = Arc::new(CountedCodes(MemoryCodeStore::new(), calls.clone()));
    let (services, mailer) =
        support::services(stores, PasswordHasher::new(Argon2Settings::OWASP, 1).unwrap());
    let email = EmailAddress::parse("ann@example.com").unwrap();
    let client = ClientContext::new(Some("192.0.2.7".parse().unwrap()), Some("tests"));

    services.sign_in.send_code(&email, &client).await.unwrap();
    // The client's and the address's budgets in one call (they were two), the code.
    assert_eq!(calls.take(), 2, "send-otp");

    let code = OtpCode::parse(&mailer.last_code_for(&email).unwrap(), 6).unwrap();
    services.sign_in.verify_code(&email, &code, &client).await.unwrap();
    // Both budgets and the address's daily guesses in one call (they were three calls,
    // then two), the code (attempt, compare and consume in one script).
    assert_eq!(calls.take(), 2, "verify-otp");
}
