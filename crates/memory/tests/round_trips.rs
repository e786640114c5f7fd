//! How many calls each sign-in step makes to the short-lived stores (codes and rate
//! limits): on Redis, each call is one round trip (one script). Counted by wrappers
//! around the in-memory adapters, which the Redis adapters mirror call for call: the
//! code store either apart from the limiter, or counting the limiter's budgets with the
//! code it issues, as `RedisCodeStore::sharing` does on one Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use otp_core::crypto::{Argon2Settings, CodeHash, PasswordHasher};
use otp_core::ports::{
    CodeKey, CodeStore, IssueOutcome, NewCode, RateDecision, RateLimit, RateLimiter, VerifyOutcome, Within,
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
struct CountedLimiter(Arc<MemoryRateLimiter>, Arc<Calls>);

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

/// The code store; with the limiter it shares, when given.
#[derive(Debug)]
struct CountedCodes(MemoryCodeStore, Arc<Calls>, Option<Arc<MemoryRateLimiter>>);

impl CountedCodes {
    /// What a store sharing the limiter does, in one call: `hits`, then `then` when
    /// every one was allowed. `None` without the limiter.
    async fn within<T>(
        &self,
        hits: &[(&str, RateLimit)],
        now: OffsetDateTime,
        then: impl Future<Output = Result<T, PortError>>,
    ) -> Result<Option<Within<T>>, PortError> {
        let Some(limiter) = &self.2 else { return Ok(None) };
        self.1.one();
        let decisions = limiter.hit_each(hits, now).await?;
        if decisions.iter().any(|decision| *decision != RateDecision::Allowed) {
            return Ok(Some(Within::Limited(decisions)));
        }
        Ok(Some(Within::Counted(then.await?)))
    }
}

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

    async fn issue_within(
        &self,
        hits: &[(&str, RateLimit)],
        key: &CodeKey,
        code: &NewCode,
        now: OffsetDateTime,
    ) -> Result<Option<Within<IssueOutcome>>, PortError> {
        self.within(hits, now, self.0.issue(key, code, now)).await
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

    async fn verify_within(
        &self,
        hits: &[(&str, RateLimit)],
        key: &CodeKey,
        candidate: &CodeHash,
        now: OffsetDateTime,
    ) -> Result<Option<Within<VerifyOutcome>>, PortError> {
        self.within(hits, now, self.0.verify(key, candidate, now)).await
    }
}

/// Services whose short-lived stores count their calls in `calls`; the code store
/// counts the limiter's budgets itself when `sharing`.
fn counted_services(
    calls: &Arc<Calls>,
    sharing: bool,
) -> (otp_core::service::Services, Arc<otp_memory::RecordingMailer>) {
    let limiter = Arc::new(MemoryRateLimiter::new());
    let mut stores = memory_stores();
    stores.rate_limiter = Arc::new(CountedLimiter(limiter.clone(), calls.clone()));
    stores.codes = Arc::new(CountedCodes(MemoryCodeStore::new(), calls.clone(), sharing.then_some(limiter)));
    support::services(stores, PasswordHasher::new(Argon2Settings::OWASP, 1).unwrap())
}

#[tokio::test]
async fn send_otp_takes_two_calls_and_verify_otp_two() {
    let calls = Arc::new(Calls::default());
    let (services, mailer) = counted_services(&calls, false);
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

#[tokio::test]
async fn a_code_store_sharing_the_limiter_sends_and_checks_a_code_in_one_call_each() {
    let calls = Arc::new(Calls::default());
    let (services, mailer) = counted_services(&calls, true);
    let email = EmailAddress::parse("ann@example.com").unwrap();
    let client = ClientContext::new(Some("192.0.2.7".parse().unwrap()), Some("tests"));

    services.sign_in.send_code(&email, &client).await.unwrap();
    assert_eq!(calls.take(), 1, "send-otp: the budgets and the code in one call");
    let other = EmailAddress::parse("bob@example.com").unwrap();
    services.sign_in.resend_code(&other, &client).await.unwrap();
    assert_eq!(calls.take(), 1, "resend-otp");

    let code = OtpCode::parse(&mailer.last_code_for(&email).unwrap(), 6).unwrap();
    services.sign_in.verify_code(&email, &code, &client).await.unwrap();
    assert_eq!(calls.take(), 1, "verify-otp: the budgets, the daily guesses and the check in one call");
}
