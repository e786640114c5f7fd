use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::crypto::CodeHash;
use crate::domain::CodePurpose;
use crate::error::PortError;
use crate::ports::{RateDecision, RateLimit};

/// Where a code lives: its purpose and a keyed digest of the address (adapters never
/// see the address in clear).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeKey {
    /// What the code is for.
    pub purpose: CodePurpose,
    /// Keyed digest of the normalised address, as lowercase hex.
    pub subject: String,
}

/// A code to store, already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    /// Keyed hash of the code.
    pub hash: CodeHash,
    /// When it stops verifying.
    pub expires_at: OffsetDateTime,
    /// Wrong tries allowed before it dies.
    pub max_attempts: u32,
    /// How long after this issue no other code may be issued under the same key.
    pub cooldown: Duration,
}

/// What [`CodeStore::issue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOutcome {
    /// The code replaced any earlier one under its key.
    Issued,
    /// A code was issued under this key too recently; nothing changed.
    CoolingDown {
        /// Time left until the cooldown ends.
        retry_after: Duration,
    },
}

/// What [`CodeStore::issue_within`] or [`CodeStore::verify_within`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Within<T> {
    /// A budget was spent: the code was neither issued nor checked. The decisions made,
    /// in order, up to and including the limited one, as
    /// [`RateLimiter::hit_each`](crate::ports::RateLimiter::hit_each) returns them.
    Limited(Vec<RateDecision>),
    /// Every hit was counted, then the operation went as it would have alone.
    Counted(T),
}

/// What [`CodeStore::verify`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// The hash matched: the code is consumed and will never verify again.
    Accepted,
    /// The hash did not match; one try was spent.
    Rejected {
        /// Wrong tries left before the code dies.
        attempts_remaining: u32,
    },
    /// The code has used up its tries; it will never verify again.
    AttemptsExceeded,
    /// The code's lifetime has passed.
    Expired,
    /// No code is stored under this key (never issued, consumed, or dropped).
    NotFound,
}

/// Short-lived storage of hashed one-time codes, with attempt counting and a
/// per-key issue cooldown.
///
/// Every operation is atomic with respect to every other on the same key, across all
/// processes that share the store: no interleaving lets a code be accepted twice or
/// evaluated more than `max_attempts` times with a wrong hash.
#[async_trait]
pub trait CodeStore: Send + Sync + std::fmt::Debug {
    /// Stores `code` under `key`, replacing any earlier code, unless a code was issued
    /// under `key` less than that earlier code's `cooldown` before `now`, in which
    /// case it MUST return [`IssueOutcome::CoolingDown`] and change nothing.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn issue(
        &self,
        key: &CodeKey,
        code: &NewCode,
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, PortError>;

    /// Counts `hits` at `now` as the [`RateLimiter`](crate::ports::RateLimiter) that
    /// shares this store's storage would in
    /// [`hit_each`](crate::ports::RateLimiter::hit_each) and, only when every one was
    /// allowed, issues `code` under `key` as [`CodeStore::issue`] would: one atomic step
    /// (one round trip where the storage is remote), so the budgets a request spends
    /// and the code it gets cannot come apart.
    ///
    /// Returns `None`, having done nothing, when this store cannot: the default, for a
    /// store that does not keep the limiter's counts, or whose keys may live on
    /// different nodes. The caller then counts with its limiter and issues apart.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn issue_within(
        &self,
        _hits: &[(&str, RateLimit)],
        _key: &CodeKey,
        _code: &NewCode,
        _now: OffsetDateTime,
    ) -> Result<Option<Within<IssueOutcome>>, PortError> {
        Ok(None)
    }

    /// Checks `candidate` against the code under `key` at `now`, in this order:
    /// no code: [`VerifyOutcome::NotFound`]; past `expires_at`:
    /// [`VerifyOutcome::Expired`] (or `NotFound` once the adapter has dropped it); no
    /// tries left: [`VerifyOutcome::AttemptsExceeded`]; hash equal (compared in constant
    /// time): consume and [`VerifyOutcome::Accepted`]; otherwise spend one try and
    /// return [`VerifyOutcome::Rejected`] with the tries left.
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn verify(
        &self,
        key: &CodeKey,
        candidate: &CodeHash,
        now: OffsetDateTime,
    ) -> Result<VerifyOutcome, PortError>;

    /// As [`CodeStore::issue_within`], for a check: counts `hits` as the limiter that
    /// shares this store's storage would and, only when every one was allowed, checks
    /// `candidate` as [`CodeStore::verify`] would, in one atomic step. A spent budget
    /// checks nothing and spends no try. `None`, having done nothing, when this store
    /// cannot (the default).
    ///
    /// # Errors
    /// [`PortError::Unavailable`] when storage cannot be reached.
    async fn verify_within(
        &self,
        _hits: &[(&str, RateLimit)],
        _key: &CodeKey,
        _candidate: &CodeHash,
        _now: OffsetDateTime,
    ) -> Result<Option<Within<VerifyOutcome>>, PortError> {
        Ok(None)
    }
}
