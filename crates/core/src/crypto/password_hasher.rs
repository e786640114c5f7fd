//! Argon2id password hashing, run on a bounded blocking pool; imported bcrypt hashes
//! are verified too.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash as PhcHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::{HashScheme, Password, PasswordHash};
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

/// The cost of the dummy bcrypt hash: passlib's default, and that of the hashes the
/// Python services wrote.
pub const DUMMY_BCRYPT_COST: u32 = 12;

/// A bcrypt hash (cost [`DUMMY_BCRYPT_COST`]) of a password nobody has: the bcrypt work
/// of every check whose stored hash is not bcrypt. Public on purpose; it protects
/// nothing but timing.
const DUMMY_BCRYPT: &str = "$2b$12$z5n/YaW5LZNL9sxPrN6JROIqtzJayzkfwY9uifbYy4S1lU25XQUqa";

fn verify_argon2(argon2: &Argon2<'static>, password: &Password, phc: &str) -> bool {
    match PhcHash::new(phc) {
        Ok(parsed) => argon2.verify_password(password.expose().as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// The verifications one password check runs: one Argon2id, against the stored hash
/// or the dummy; one bcrypt, against the stored hash or [`DUMMY_BCRYPT`], when the
/// stored hash is bcrypt or when every check must spend bcrypt work.
#[derive(Debug, PartialEq, Eq)]
struct Work<'a> {
    argon2: &'a str,
    bcrypt: Option<&'a str>,
}

impl<'a> Work<'a> {
    fn for_check(
        scheme: Option<HashScheme>,
        stored: &'a str,
        dummy: &'a str,
        equal_bcrypt_work: bool,
    ) -> Self {
        let (argon2, bcrypt) = match scheme {
            Some(HashScheme::Argon2id) => (stored, DUMMY_BCRYPT),
            Some(HashScheme::Bcrypt) => (dummy, stored),
            None => (dummy, DUMMY_BCRYPT),
        };
        let bcrypt_needed = equal_bcrypt_work || scheme == Some(HashScheme::Bcrypt);
        Self { argon2, bcrypt: bcrypt_needed.then_some(bcrypt) }
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
    /// Whether every check also spends one bcrypt verification, so that accounts with
    /// an imported bcrypt hash cannot be told apart by time (see
    /// [`PasswordHasher::with_imported_bcrypt`]).
    equal_bcrypt_work: bool,
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
        Ok(Self {
            argon2,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy: dummy.into(),
            equal_bcrypt_work: false,
        })
    }

    /// With `imported` = `true` (the store still holds bcrypt hashes imported from
    /// elsewhere), every check also spends one bcrypt verification (cost
    /// [`DUMMY_BCRYPT_COST`]) against a dummy when the stored hash is not bcrypt, so an
    /// unknown account, an Argon2id account and a bcrypt account cost the same. Without
    /// it, bcrypt hashes still verify, and the other checks cost one Argon2id each.
    #[must_use]
    pub fn with_imported_bcrypt(mut self, imported: bool) -> Self {
        self.equal_bcrypt_work = imported;
        self
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

    /// Whether `password` matches `stored`, an Argon2id or an imported bcrypt hash.
    /// With `stored` = `None` (unknown account, or one without a password) it verifies
    /// against dummy hashes, spending the same work, and answers `false`.
    ///
    /// Every call does one Argon2id verification (against the stored hash or a dummy).
    /// With [`PasswordHasher::with_imported_bcrypt`] every call also does one bcrypt
    /// verification (cost [`DUMMY_BCRYPT_COST`]), against the stored hash or a dummy, so
    /// an unknown account, an Argon2id account and a bcrypt account cost the same.
    ///
    /// # Errors
    /// [`HashingError`] when the worker pool is gone.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, HashingError> {
        let known = stored.is_some();
        let stored = stored.cloned();
        let dummy = Arc::clone(&self.dummy);
        let argon2 = self.argon2.clone();
        let equal_bcrypt_work = self.equal_bcrypt_work;
        self.run(move || {
            let scheme = stored.as_ref().and_then(PasswordHash::scheme);
            let stored_text = stored.as_ref().map_or("", PasswordHash::as_phc);
            // The same work whatever the account, then a look at the scheme and `known`:
            // skipping a step for one kind of account would make it answer faster.
            let work = Work::for_check(scheme, stored_text, &dummy, equal_bcrypt_work);
            let argon2_matches = verify_argon2(&argon2, &password, work.argon2);
            let bcrypt_matches =
                work.bcrypt.is_some_and(|hash| bcrypt::verify(password.expose(), hash).unwrap_or(false));
            if known && scheme.is_none() {
                tracing::error!("stored password hash is neither Argon2id nor bcrypt");
            }
            let matches = match scheme {
                Some(HashScheme::Argon2id) => argon2_matches,
                Some(HashScheme::Bcrypt) => bcrypt_matches,
                None => false,
            };
            matches && known
        })
        .await
    }

    /// Whether a hash that just verified should be replaced by a fresh Argon2id hash:
    /// it is in another scheme (an imported bcrypt hash).
    pub fn needs_rehash(hash: &PasswordHash) -> bool {
        hash.scheme() != Some(HashScheme::Argon2id)
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

    /// Made with Python's `bcrypt` (as passlib does): `bcrypt.hashpw(b"old python password", gensalt(12))`.
    const PYTHON_BCRYPT: &str = "$2b$12$aiFaeNMGTsVw8Ln4Ek1l5enBQ/gVoTa7TksyJwQJDaqXLk8ORVLRm";

    #[tokio::test]
    async fn imported_bcrypt_hashes_verify_and_ask_to_be_replaced() {
        let hasher = hasher();
        let imported = PasswordHash::imported(PYTHON_BCRYPT).unwrap();
        assert!(hasher.verify(password("old python password"), Some(&imported)).await.unwrap());
        assert!(!hasher.verify(password("another password"), Some(&imported)).await.unwrap());
        assert!(PasswordHasher::needs_rehash(&imported));
        let fresh = hasher.hash(password("old python password")).await.unwrap();
        assert!(!PasswordHasher::needs_rehash(&fresh));
    }

    #[tokio::test]
    async fn the_dummy_bcrypt_hash_has_the_documented_cost_and_never_matches() {
        assert!(DUMMY_BCRYPT.starts_with(&format!("$2b${DUMMY_BCRYPT_COST}$")));
        let hasher = hasher();
        let dummy = PasswordHash::imported(DUMMY_BCRYPT).unwrap();
        assert!(!hasher.verify(password("correct horse"), Some(&dummy)).await.unwrap());
    }

    /// The bcrypt cost of a hash, from its `$2b$<cost>$` prefix.
    fn bcrypt_cost(hash: &str) -> u32 {
        hash.split('$').nth(2).unwrap().parse().unwrap()
    }

    #[test]
    fn with_imported_bcrypt_every_kind_of_account_costs_one_argon2id_and_one_bcrypt_of_cost_12() {
        let argon_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
        let dummy = "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXk$ZHVtbXlkdW1teQ";
        for (scheme, stored) in
            [(None, ""), (Some(HashScheme::Argon2id), argon_hash), (Some(HashScheme::Bcrypt), PYTHON_BCRYPT)]
        {
            let work = Work::for_check(scheme, stored, dummy, true);
            assert!(work.argon2.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{scheme:?}");
            let bcrypt = work.bcrypt.expect("one bcrypt check for every account");
            assert_eq!(bcrypt_cost(bcrypt), DUMMY_BCRYPT_COST, "{scheme:?}");
        }
        // Without imports, no bcrypt work but for a bcrypt hash itself.
        assert_eq!(Work::for_check(None, "", dummy, false).bcrypt, None);
        assert_eq!(Work::for_check(Some(HashScheme::Argon2id), argon_hash, dummy, false).bcrypt, None);
        assert_eq!(
            Work::for_check(Some(HashScheme::Bcrypt), PYTHON_BCRYPT, dummy, false).bcrypt,
            Some(PYTHON_BCRYPT)
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_with_or_without_equal_work() {
        let imported = PasswordHash::imported(PYTHON_BCRYPT).unwrap();
        for hasher in [hasher(), hasher().with_imported_bcrypt(true)] {
            assert!(hasher.verify(password("old python password"), Some(&imported)).await.unwrap());
            assert!(!hasher.verify(password("another password"), Some(&imported)).await.unwrap());
        }
    }

    #[tokio::test]
    async fn salts_differ_between_hashes() {
        let hasher = hasher();
        let first = hasher.hash(password("same password")).await.unwrap();
        let second = hasher.hash(password("same password")).await.unwrap();
        assert_ne!(first, second);
    }
}
