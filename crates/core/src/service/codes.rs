//! Issuing and checking one-time codes through the code store: a small value the
//! sign-in service holds.

use std::sync::Arc;
use std::time::Duration;

use crate::crypto::{CodeHash, KeyedHasher};
use crate::domain::{CodePurpose, DeviceId, EmailAddress, OtpCode, UserId};
use time::OffsetDateTime;

use super::throttle::{Throttle, ThrottleError, hits_of};
use crate::error::{Failure, PortError};
use crate::policy::AuthPolicy;
use crate::ports::{
    Clock, CodeKey, CodeStore, IssueOutcome, NewCode, RateDecision, RateLimit, VerifyOutcome, Within,
};

/// Why no code was issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// A code went to the address under the same purpose too recently.
    #[error("a code was sent recently; wait before asking for another")]
    Cooldown {
        /// How long until a new code may be issued.
        retry_after: Duration,
    },
    /// The code store could not be reached.
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl IssueError {
    fn from_port(error: PortError) -> Self {
        Self::Failure(error.into())
    }
}

/// The key suffix of a remembered device's own code.
fn device_suffix(device: Option<DeviceId>) -> Option<String> {
    device.map(|device| device.as_uuid().simple().to_string())
}

/// Why a presented code was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Wrong, already used, or none was issued.
    #[error("code is incorrect")]
    Invalid {
        /// Tries left on the current code, when one is active.
        attempts_remaining: Option<u32>,
    },
    /// The code's lifetime has passed.
    #[error("code has expired")]
    Expired,
    /// Too many wrong tries: the code is dead.
    #[error("too many wrong codes")]
    AttemptsExceeded,
    /// The code store could not be reached.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Issues codes (hashed, with a lifetime, an attempt budget and a resend cooldown) and
/// checks them, consuming a code on success.
#[derive(Debug, Clone)]
pub struct OneTimeCodes {
    store: Arc<dyn CodeStore>,
    clock: Arc<dyn Clock>,
    hasher: KeyedHasher,
    length: usize,
    lifetime: Duration,
    max_attempts: u32,
    cooldown: Duration,
}

impl OneTimeCodes {
    /// Codes kept in `store`, shaped by the policy's code rules.
    pub fn new(
        store: Arc<dyn CodeStore>,
        clock: Arc<dyn Clock>,
        hasher: KeyedHasher,
        policy: &AuthPolicy,
    ) -> Self {
        Self {
            store,
            clock,
            hasher,
            length: policy.code_length,
            lifetime: policy.code_ttl,
            max_attempts: policy.max_code_attempts,
            cooldown: policy.resend_cooldown,
        }
    }

    /// How many digits a code has.
    pub fn length(&self) -> usize {
        self.length
    }

    /// How long a new code stays valid.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// The least time between two codes to one address.
    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// The key of the address's shared code, or, for one of its remembered devices, of
    /// that device's own code (so strangers' sends and wrong guesses on the shared code
    /// never touch it).
    fn key_with(&self, purpose: CodePurpose, email: &EmailAddress, suffix: Option<String>) -> CodeKey {
        let mut subject = self.hasher.email_digest(email);
        subject.push_str(&suffix.unwrap_or_default());
        CodeKey { purpose, subject }
    }

    /// The key of a secret of `user` about `email`.
    fn secret_key(&self, purpose: CodePurpose, user: UserId, email: &EmailAddress) -> CodeKey {
        CodeKey {
            purpose,
            subject: format!("{}{}", user.as_uuid().simple(), self.hasher.email_digest(email)),
        }
    }

    /// Stores a secret's keyed hash under `purpose` for `user` and `email`, valid for
    /// `lifetime`, replacing any earlier one for the same pair (no cooldown). For
    /// single-use links such as the undo link of an address change. The secret carries
    /// 256 random bits, so wrong tries are not capped: a cap would let anyone who knows
    /// the account id and the address spend the owner's link.
    ///
    /// # Errors
    /// A store failure.
    pub async fn store_secret(
        &self,
        purpose: CodePurpose,
        user: UserId,
        email: &EmailAddress,
        hash: CodeHash,
        lifetime: Duration,
    ) -> Result<(), Failure> {
        let now = self.clock.now();
        let new =
            NewCode { hash, expires_at: now + lifetime, max_attempts: u32::MAX, cooldown: Duration::ZERO };
        let key = self.secret_key(purpose, user, email);
        self.store.issue(&key, &new, now).await.map_err(Failure::from)?;
        Ok(())
    }

    /// Checks a secret stored with [`OneTimeCodes::store_secret`], consuming it on
    /// success.
    ///
    /// # Errors
    /// [`CheckError`] saying why it was refused; a store failure.
    pub async fn check_secret(
        &self,
        purpose: CodePurpose,
        user: UserId,
        email: &EmailAddress,
        candidate: &CodeHash,
    ) -> Result<(), CheckError> {
        let key = self.secret_key(purpose, user, email);
        self.verify(purpose, &key, candidate).await
    }

    /// As [`OneTimeCodes::check_code`], against the code issued to `user` with
    /// [`OneTimeCodes::issue_for_account`].
    ///
    /// # Errors
    /// [`CheckError`] saying why it was refused; a store failure.
    pub async fn check_code_for_account(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        code: &OtpCode,
        user: UserId,
    ) -> Result<(), CheckError> {
        let candidate = self.hasher.code_hash(purpose, email, code);
        let key = self.key_with(purpose, email, Some(user.as_uuid().simple().to_string()));
        self.verify(purpose, &key, &candidate).await
    }

    /// Generates and stores a new code for `email`, replacing any earlier one of the
    /// same purpose.
    ///
    /// # Errors
    /// [`IssueError::Cooldown`] when a code was issued too recently; a store failure.
    pub async fn issue(&self, purpose: CodePurpose, email: &EmailAddress) -> Result<OtpCode, IssueError> {
        self.issue_for(purpose, email, None).await
    }

    /// As [`OneTimeCodes::issue`], under the code key of `device` when given (its own
    /// code and cooldown).
    ///
    /// # Errors
    /// [`IssueError::Cooldown`] when a code was issued too recently; a store failure.
    pub async fn issue_for(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        device: Option<DeviceId>,
    ) -> Result<OtpCode, IssueError> {
        self.issue_under(purpose, email, device_suffix(device)).await
    }

    /// As [`OneTimeCodes::issue`], under a key of its own for `user` (so a code for one
    /// account never verifies for another that names the same address).
    ///
    /// # Errors
    /// [`IssueError::Cooldown`] when a code was issued too recently; a store failure.
    pub async fn issue_for_account(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        user: UserId,
    ) -> Result<OtpCode, IssueError> {
        self.issue_under(purpose, email, Some(user.as_uuid().simple().to_string())).await
    }

    /// As [`OneTimeCodes::issue_for`], once `budgets` are spent: counted by the code
    /// store in the same step as the issue where it can ([`CodeStore::issue_within`]:
    /// one round trip on Redis), otherwise by `throttle` first. Either way the
    /// budgets are counted before the cooldown is looked at, and a spent budget issues
    /// nothing.
    ///
    /// # Errors
    /// A spent budget as [`ThrottleError::Limited`], a cooldown as
    /// [`IssueError::Cooldown`], a limiter or store failure.
    pub(crate) async fn issue_for_within<E>(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        device: Option<DeviceId>,
        budgets: &[(String, RateLimit)],
        throttle: &Throttle,
    ) -> Result<OtpCode, E>
    where
        E: From<ThrottleError> + From<IssueError>,
    {
        let (key, code, new, now) = self.prepare(purpose, email, device_suffix(device));
        let hits = hits_of(budgets);
        let within = self.store.issue_within(&hits, &key, &new, now).await.map_err(IssueError::from_port)?;
        let outcome = match within {
            Some(Within::Counted(outcome)) => outcome,
            Some(Within::Limited(decisions)) => {
                Throttle::judge(budgets, &decisions)?;
                return Err(IssueError::from(Failure::internal(
                    "a code store reported a limit it did not make",
                ))
                .into());
            }
            None => {
                throttle.spend(budgets).await?;
                self.store.issue(&key, &new, now).await.map_err(IssueError::from_port)?
            }
        };
        Ok(self.issued(purpose, code, outcome)?)
    }

    async fn issue_under(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        suffix: Option<String>,
    ) -> Result<OtpCode, IssueError> {
        let (key, code, new, now) = self.prepare(purpose, email, suffix);
        let outcome = self.store.issue(&key, &new, now).await.map_err(IssueError::from_port)?;
        self.issued(purpose, code, outcome)
    }

    /// A new code for `email` under `purpose` (and the key `suffix`): its key, the code,
    /// what the store keeps of it, and the instant it is issued at.
    fn prepare(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        suffix: Option<String>,
    ) -> (CodeKey, OtpCode, NewCode, OffsetDateTime) {
        let now = self.clock.now();
        let code = OtpCode::generate(self.length);
        let new = NewCode {
            hash: self.hasher.code_hash(purpose, email, &code),
            expires_at: now + self.lifetime,
            max_attempts: self.max_attempts,
            cooldown: self.cooldown,
        };
        (self.key_with(purpose, email, suffix), code, new, now)
    }

    /// `code`, if the store issued it.
    fn issued(
        &self,
        purpose: CodePurpose,
        code: OtpCode,
        outcome: IssueOutcome,
    ) -> Result<OtpCode, IssueError> {
        match outcome {
            IssueOutcome::Issued => {
                metrics::counter!("otp_codes_issued_total", "purpose" => purpose.as_str()).increment(1);
                Ok(code)
            }
            IssueOutcome::CoolingDown { retry_after } => Err(IssueError::Cooldown { retry_after }),
        }
    }

    /// Checks a presented one-time code, consuming it on success.
    ///
    /// # Errors
    /// [`CheckError`] saying why it was refused; a store failure.
    pub async fn check_code(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        code: &OtpCode,
    ) -> Result<(), CheckError> {
        self.check_code_for(purpose, email, code, None).await
    }

    /// As [`OneTimeCodes::check_code`], against the code of `device` when given.
    ///
    /// # Errors
    /// [`CheckError`] saying why it was refused; a store failure.
    pub async fn check_code_for(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        code: &OtpCode,
        device: Option<DeviceId>,
    ) -> Result<(), CheckError> {
        let candidate = self.hasher.code_hash(purpose, email, code);
        let key = self.key_with(purpose, email, device_suffix(device));
        self.verify(purpose, &key, &candidate).await
    }

    /// As [`OneTimeCodes::check_code_for`], once `budgets` are counted: by the code
    /// store in the same step as the check where it can ([`CodeStore::verify_within`]:
    /// one round trip on Redis), otherwise by `throttle` first. A spent budget checks
    /// nothing and spends no try: its decisions are answered for the caller to judge.
    ///
    /// # Errors
    /// A limiter or store failure.
    pub(crate) async fn check_code_within(
        &self,
        purpose: CodePurpose,
        email: &EmailAddress,
        code: &OtpCode,
        device: Option<DeviceId>,
        budgets: &[(String, RateLimit)],
        throttle: &Throttle,
    ) -> Result<Within<Result<(), CheckError>>, Failure> {
        let candidate = self.hasher.code_hash(purpose, email, code);
        let key = self.key_with(purpose, email, device_suffix(device));
        let hits = hits_of(budgets);
        let now = self.clock.now();
        let outcome = match self.store.verify_within(&hits, &key, &candidate, now).await? {
            Some(Within::Limited(decisions)) => return Ok(Within::Limited(decisions)),
            Some(Within::Counted(outcome)) => outcome,
            None => {
                let decisions = throttle.count(budgets).await?;
                if decisions.iter().any(|decision| *decision != RateDecision::Allowed) {
                    return Ok(Within::Limited(decisions));
                }
                self.store.verify(&key, &candidate, now).await?
            }
        };
        Ok(Within::Counted(checked(purpose, outcome)))
    }

    async fn verify(
        &self,
        purpose: CodePurpose,
        key: &CodeKey,
        candidate: &CodeHash,
    ) -> Result<(), CheckError> {
        let outcome = self.store.verify(key, candidate, self.clock.now()).await.map_err(Failure::from)?;
        checked(purpose, outcome)
    }
}

/// A check's outcome as a result, counted by purpose and outcome.
fn checked(purpose: CodePurpose, outcome: VerifyOutcome) -> Result<(), CheckError> {
    let label = match outcome {
        VerifyOutcome::Accepted => "accepted",
        VerifyOutcome::Rejected { .. } => "rejected",
        VerifyOutcome::NotFound => "not_found",
        VerifyOutcome::Expired => "expired",
        VerifyOutcome::AttemptsExceeded => "locked_out",
    };
    metrics::counter!("otp_code_checks_total", "purpose" => purpose.as_str(), "outcome" => label)
        .increment(1);
    match outcome {
        VerifyOutcome::Accepted => Ok(()),
        VerifyOutcome::Rejected { attempts_remaining } => {
            Err(CheckError::Invalid { attempts_remaining: Some(attempts_remaining) })
        }
        VerifyOutcome::NotFound => Err(CheckError::Invalid { attempts_remaining: None }),
        VerifyOutcome::Expired => Err(CheckError::Expired),
        VerifyOutcome::AttemptsExceeded => Err(CheckError::AttemptsExceeded),
    }
}
