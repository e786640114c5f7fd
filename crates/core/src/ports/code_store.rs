use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::crypto::CodeHash;
use crate::domain::CodePurpose;
use crate::error::PortError;

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
}
