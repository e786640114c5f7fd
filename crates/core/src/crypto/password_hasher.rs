//! Argon2id password hashing, run on a bounded blocking pool.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::{Password, PasswordHash};
use crate::error::BoxError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Settings {
    /// OWASP's recommendation: m=19456 KiB, t=2, p=1.
    pub const OWASP: Self = Self { memory_kib: 19_456, iterations: 2, parallelism: 1 };
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Self::OWASP
    }
}

/// A password could not be hashed or checked (a bug or a lost worker pool, never the
/// caller's doing).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(#[source] BoxError);

/// Hashes and verifies passwords with Argon2id off the async workers.
///
/// At most `max_concurrent` hashes run at once (each holds `memory_kib` of memory);
/// further calls wait their turn, so a burst of log-ins cannot exhaust memory or
/// starve the threads that serve requests. Requires a Tokio runtime.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    dummy: Arc<str>,
}

impl PasswordHasher {
    /// A hasher with the given costs, computing one dummy hash now (used to spend the
    /// same work when an account is unknown).
    ///
    /// # Errors
    /// When the parameters are out of Argon2's range.
    pub fn new(settings: Argon2Settings, max_concurrent: usize) -> Result<Self, BoxError> {
        let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)
            .map_err(|error| format!("invalid Argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = argon2
            .hash_password(b"dummy password, never matches a real one")
            .map_err(|error| format!("hashing the dummy password: {error}"))?
            .to_string();
        Ok(Self { argon2, permits: Arc::new(Semaphore::new(max_concurrent.max(1))), dummy: dummy.into() })
    }

    /// Hashes `password` with a fresh random salt into a PHC string.
    ///
    /// # Errors
    /// [`HashingError`] when hashing fails or the worker pool is gone.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, HashingError> {
        let argon2 = self.argon2.clone();
        self.run(move || {
            argon2
                .hash_password(password.expose().as_bytes())
                .map(|hash| PasswordHash::from_phc(hash.to_string()))
                .map_err(|error| HashingError(format!("hashing a password: {error}").into()))
        })
        .await?
    }

    /// Whether `password` matches `stored`. With `stored` = `None` (unknown account,
    /// or one without a password) it verifies against a dummy hash, spending the
    /// same work, and answers `false`.
    ///
    /// # Errors
    /// [`HashingError`] when the worker pool is gone.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, HashingError> {
        let known = stored.is_some();
        let phc: Arc<str> = stored.map_or_else(|| Arc::clone(&self.dummy), |hash| hash.as_phc().into());
        let argon2 = self.argon2.clone();
        self.run(move || match PhcHash::new(&phc) {
            Ok(parsed) => {
                // Always verify, then look at `known`: `known && verify(..)` would skip
                // the work for unknown accounts and make them answer faster.
                let matches = argon2.verify_password(password.expose().as_bytes(), &parsed).is_ok();
                matches && known
            }
            Err(error) => {
                tracing::error!(%error, "stored password hash is not a valid PHC string");
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let _permit = self.permits.acquire().await.map_err(|error| HashingError(Box::new(error)))?;
        tokio::task::spawn_blocking(work).await.map_err(|error| HashingError(Box::new(error)))
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl From<HashingError> for crate::error::Failure {
    fn from(error: HashingError) -> Self {
        Self::Internal(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(Argon2Settings::OWASP, 2).unwrap()
    }

    fn password(raw: &str) -> Password {
        Password::new(raw.to_owned()).unwrap()
    }

    #[tokio::test]
    async fn hashes_to_owasp_argon2id_phc_strings() {
        let hash = hasher().hash(password("correct horse")).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_phc());
    }

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hasher = hasher();
        let hash = hasher.hash(password("correct horse")).await.unwrap();
        assert!(hasher.verify(password("correct horse"), Some(&hash)).await.unwrap());
        assert!(!hasher.verify(password("wrong horse!"), Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_accounts_and_broken_hashes_never_match() {
        let hasher = hasher();
        assert!(!hasher.verify(password("dummy password, never matches a real one"), None).await.unwrap());
        let broken = PasswordHash::from_phc("not a phc string".to_owned());
        assert!(!hasher.verify(password("anything at all"), Some(&broken)).await.unwrap());
    }

    #[tokio::test]
    async fn salts_differ_between_hashes() {
        let hasher = hasher();
        let first = hasher.hash(password("same password")).await.unwrap();
        let second = hasher.hash(password("same password")).await.unwrap();
        assert_ne!(first, second);
    }
}
