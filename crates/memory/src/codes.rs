//! Hashed one-time codes in a map, with attempt counting and issue cooldowns.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::crypto::CodeHash;
use otp_core::ports::{CodeKey, CodeStore, IssueOutcome, NewCode, VerifyOutcome};
use time::OffsetDateTime;

use crate::lock::lock;

/// How long an expired code is kept so that `verify` can say `Expired` rather than
/// `NotFound`.
const EXPIRED_RETENTION: time::Duration = time::Duration::hours(1);

#[derive(Debug)]
struct StoredCode {
    hash: CodeHash,
    expires_at: OffsetDateTime,
    attempts_left: u32,
}

#[derive(Debug, Default)]
struct Codes {
    active: HashMap<CodeKey, StoredCode>,
    cooldown_until: HashMap<CodeKey, OffsetDateTime>,
    issued_since_sweep: usize,
}

impl Codes {
    fn sweep(&mut self, now: OffsetDateTime) {
        self.active.retain(|_, code| code.expires_at + EXPIRED_RETENTION > now);
        self.cooldown_until.retain(|_, until| *until > now);
        self.issued_since_sweep = 0;
    }
}

/// In-memory [`CodeStore`]: every operation runs under one lock, so each is atomic.
#[derive(Debug, Default)]
pub struct MemoryCodeStore {
    codes: Mutex<Codes>,
}

impl MemoryCodeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CodeStore for MemoryCodeStore {
    async fn issue(
        &self,
        key: &CodeKey,
        code: &NewCode,
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, PortError> {
        let mut codes = lock(&self.codes);
        codes.issued_since_sweep += 1;
        if codes.issued_since_sweep >= 1024 {
            codes.sweep(now);
        }
        if let Some(until) = codes.cooldown_until.get(key).filter(|until| **until > now) {
            let retry_after = (*until - now).unsigned_abs();
            return Ok(IssueOutcome::CoolingDown { retry_after });
        }
        codes.cooldown_until.insert(key.clone(), now + code.cooldown);
        codes.active.insert(
            key.clone(),
            StoredCode { hash: code.hash, expires_at: code.expires_at, attempts_left: code.max_attempts },
        );
        Ok(IssueOutcome::Issued)
    }

    async fn verify(
        &self,
        key: &CodeKey,
        candidate: &CodeHash,
        now: OffsetDateTime,
    ) -> Result<VerifyOutcome, PortError> {
        let mut codes = lock(&self.codes);
        let Some(stored) = codes.active.get_mut(key) else {
            return Ok(VerifyOutcome::NotFound);
        };
        if stored.expires_at <= now {
            return Ok(VerifyOutcome::Expired);
        }
        if stored.attempts_left == 0 {
            return Ok(VerifyOutcome::AttemptsExceeded);
        }
        if stored.hash.ct_eq(candidate) {
            codes.active.remove(key);
            return Ok(VerifyOutcome::Accepted);
        }
        stored.attempts_left -= 1;
        Ok(VerifyOutcome::Rejected { attempts_remaining: stored.attempts_left })
    }
}
