//! Argon2id password hashing on a fixed set of worker threads, each owning one
//! preallocated Argon2 memory block that it reuses, fed by a bounded queue; imported
//! bcrypt hashes are verified too.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::PasswordHasher as _;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as PhcHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

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

/// Bytes of a fresh salt.
const SALT_LEN: usize = 16;
/// Bytes of a fresh hash.
const OUTPUT_LEN: usize = 32;

/// How long a caller refused for a full queue is told to wait.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The queue length for `workers` workers when none is configured: four waiting
/// hashes per worker.
pub const fn default_queue(workers: usize) -> usize {
    workers.saturating_mul(4)
}

/// One worker's Argon2 engine: the parameters and the memory it reuses for every hash.
struct Engine {
    argon2: Argon2<'static>,
    memory: Vec<Block>,
}

impl Engine {
    fn new(params: &Params) -> Self {
        Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            memory: vec![Block::new(); params.block_count()],
        }
    }

    /// Hashes `password` with a fresh random salt into a PHC string, in this engine's
    /// memory.
    fn hash(&mut self, password: &[u8]) -> Result<String, BoxError> {
        let salt: [u8; SALT_LEN] = rand::random();
        let mut out = [0_u8; OUTPUT_LEN];
        self.argon2
            .hash_password_into_with_memory(password, &salt, &mut out, &mut self.memory)
            .map_err(|error| format!("hashing a password: {error}"))?;
        let phc = PhcHash {
            algorithm: Algorithm::Argon2id.into(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(self.argon2.params())
                .map_err(|error| format!("encoding Argon2 parameters: {error}"))?,
            salt: Some(Salt::new(&salt).map_err(|error| format!("encoding a salt: {error}"))?),
            hash: Some(Output::new(&out).map_err(|error| format!("encoding a hash: {error}"))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the Argon2 PHC string `phc`. A hash whose memory cost
    /// fits this engine's block is computed in it; a larger one (made with costlier
    /// settings earlier) is computed in memory of its own.
    fn verify(&mut self, password: &[u8], phc: &str) -> bool {
        let Ok(parsed) = PhcHash::new(phc) else { return false };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(_) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else { return false };
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0_u8; expected.len()];
        let computed = if params.block_count() <= self.memory.len() {
            argon2.hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut self.memory)
        } else {
            argon2.hash_password_into(password, salt.as_ref(), &mut out)
        };
        computed.is_ok() && bool::from(out.ct_eq(expected.as_bytes()))
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

/// A password could not be hashed or checked now.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every worker is busy and the queue is full: nothing was computed. The answer
    /// depends on load only, never on the account.
    #[error("password hashing is busy; try again shortly")]
    Busy {
        /// How long to wait before trying again.
        retry_after: Duration,
    },
    /// Hashing failed or the workers are gone (a bug, never the caller's doing).
    #[error("password hashing failed: {0}")]
    Failed(#[source] BoxError),
}

type Job = Box<dyn FnOnce(&mut Engine) + Send>;

/// The sending side of the workers' queue; the workers stop when the last clone of
/// the hasher is dropped.
struct Queue {
    jobs: SyncSender<Job>,
    workers: usize,
    capacity: usize,
    /// Jobs waiting or running: at `workers + capacity`, every worker is busy and the
    /// queue is full.
    in_flight: Arc<AtomicUsize>,
}

impl Queue {
    /// The most jobs waiting or running at once.
    fn in_flight_limit(&self) -> usize {
        self.workers + self.capacity
    }
}

/// Hashes and verifies passwords with Argon2id off the async workers.
///
/// A fixed set of `workers` threads each own one Argon2 memory block (`memory_kib`)
/// allocated once and reused for every hash, so the memory spent on hashing is
/// `workers × memory_kib` whatever the load. Work waits in a queue of at most `queue`
/// entries; beyond it a call answers [`HashingError::Busy`] at once rather than wait.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: Arc<Queue>,
    dummy: Arc<str>,
    /// Whether every check also spends one bcrypt verification, so that accounts with
    /// an imported bcrypt hash cannot be told apart by time (see
    /// [`PasswordHasher::with_imported_bcrypt`]).
    equal_bcrypt_work: bool,
}

impl PasswordHasher {
    /// A hasher with `workers` threads and a queue of [`default_queue`]`(workers)`; see
    /// [`PasswordHasher::with_queue`].
    ///
    /// # Errors
    /// When the parameters are out of Argon2's range or a thread cannot be started.
    pub fn new(settings: Argon2Settings, workers: usize) -> Result<Self, BoxError> {
        Self::with_queue(settings, workers, default_queue(workers.max(1)))
    }

    /// A hasher with the given costs on `workers` threads (at least one), each owning
    /// its Argon2 memory, with at most `queue` hashes waiting; computes one dummy hash
    /// now (used to spend the same work when an account is unknown).
    ///
    /// # Errors
    /// When the parameters are out of Argon2's range or a thread cannot be started.
    pub fn with_queue(settings: Argon2Settings, workers: usize, queue: usize) -> Result<Self, BoxError> {
        let params = Params::new(settings.memory_kib, settings.iterations, settings.parallelism, None)
            .map_err(|error| format!("invalid Argon2 parameters: {error}"))?;
        let dummy = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"dummy password, never matches a real one")
            .map_err(|error| format!("hashing the dummy password: {error}"))?
            .to_string();
        let workers = workers.max(1);
        let (jobs, received) = sync_channel::<Job>(queue + workers);
        let received = Arc::new(Mutex::new(received));
        for index in 0..workers {
            let received = Arc::clone(&received);
            let params = params.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || work(&received, &params))
                .map_err(|error| format!("starting an Argon2 worker: {error}"))?;
        }
        Ok(Self {
            queue: Arc::new(Queue { jobs, workers, capacity: queue, in_flight: Arc::default() }),
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

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.queue.workers
    }

    /// The most hashes that may wait for a worker.
    pub fn queue_capacity(&self) -> usize {
        self.queue.capacity
    }

    /// Refuses at once, as a call would, when every worker is busy and the queue is
    /// full: a caller about to do other work before hashing (looking up the account)
    /// answers [`HashingError::Busy`] without it. Passing says nothing for sure: the
    /// call itself may still be refused. Decided by load alone.
    ///
    /// # Errors
    /// [`HashingError::Busy`] when the queue is full.
    pub fn check_room(&self) -> Result<(), HashingError> {
        if self.queue.in_flight.load(Ordering::Acquire) >= self.queue.in_flight_limit() {
            return Err(busy());
        }
        Ok(())
    }

    /// Takes room for one hash now, to be used by [`HashRoom::hash`]: for a caller that
    /// is about to do something it cannot undo before hashing (using up a one-time
    /// code), so that a full queue refuses before it, never after. Dropped unused, the
    /// room is given back.
    ///
    /// # Errors
    /// [`HashingError::Busy`] when the queue is full.
    pub fn reserve(&self) -> Result<HashRoom, HashingError> {
        let before = self.queue.in_flight.fetch_add(1, Ordering::AcqRel);
        // Counted from here; given back when dropped, also right below when refused.
        let counted = InFlight(Arc::clone(&self.queue.in_flight));
        if before >= self.queue.in_flight_limit() {
            return Err(busy());
        }
        Ok(HashRoom { queue: Arc::clone(&self.queue), counted })
    }

    /// Hashes `password` with a fresh random salt into a PHC string.
    ///
    /// # Errors
    /// [`HashingError::Busy`] when the queue is full; [`HashingError::Failed`] when
    /// hashing fails or the workers are gone.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, HashingError> {
        self.reserve()?.hash(password).await
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
    /// [`HashingError::Busy`] when the queue is full (decided before anything about
    /// the account is looked at); [`HashingError::Failed`] when the workers are gone.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, HashingError> {
        let known = stored.is_some();
        let stored = stored.cloned();
        let dummy = Arc::clone(&self.dummy);
        let equal_bcrypt_work = self.equal_bcrypt_work;
        self.run(move |engine| {
            let scheme = stored.as_ref().and_then(PasswordHash::scheme);
            let stored_text = stored.as_ref().map_or("", PasswordHash::as_phc);
            // The same work whatever the account, then a look at the scheme and `known`:
            // skipping a step for one kind of account would make it answer faster.
            let work = Work::for_check(scheme, stored_text, &dummy, equal_bcrypt_work);
            let argon2_matches = engine.verify(password.expose().as_bytes(), work.argon2);
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

    /// Queues `work` for a worker and waits for its answer, or refuses at once when the
    /// queue is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Engine) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        self.reserve()?.run(work).await
    }
}

/// Room for one hash in the queue, taken by [`PasswordHasher::reserve`]; given back
/// when the hash is done, or when dropped unused.
#[must_use = "room not used is given back at once"]
pub struct HashRoom {
    queue: Arc<Queue>,
    /// The room's place in the in-flight count, handed to the job that uses it.
    counted: InFlight,
}

impl HashRoom {
    /// Hashes `password` with a fresh random salt into a PHC string, in this room.
    ///
    /// # Errors
    /// [`HashingError::Failed`] when hashing fails or the workers are gone.
    pub async fn hash(self, password: Password) -> Result<PasswordHash, HashingError> {
        self.run(move |engine| {
            engine
                .hash(password.expose().as_bytes())
                .map(PasswordHash::from_phc)
                .map_err(HashingError::Failed)
        })
        .await?
    }

    /// Queues `work` in this room and waits for its answer.
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Engine) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let Self { queue, counted } = self;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |engine| {
            let result = work(engine);
            // Given back before the answer, so the caller finds the room free again.
            // A panicking `work` gives it back too, while unwinding.
            drop(counted);
            // The caller may have gone (a closed connection): nothing to tell then.
            let _ = answer.send(result);
        });
        // Admission is by count (the room), so that `check_room` and this agree: the
        // channel holds as many jobs as may be in flight, and is never the one to refuse.
        // A job refused anyway is dropped here, and gives its room back with it.
        match queue.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(busy()),
            Err(TrySendError::Disconnected(_)) => {
                return Err(HashingError::Failed("the Argon2 workers are gone".into()));
            }
        }
        answered.await.map_err(|error| HashingError::Failed(Box::new(error)))
    }
}

impl fmt::Debug for HashRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashRoom").finish_non_exhaustive()
    }
}

/// A place in the in-flight count, given back when dropped: with a room never used,
/// or by its job when done or when it panics.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// The refusal of a call beyond the queue, counted.
fn busy() -> HashingError {
    metrics::counter!("otp_password_hash_busy_total").increment(1);
    HashingError::Busy { retry_after: BUSY_RETRY_AFTER }
}

/// A worker's loop: one engine (and its memory) for its whole life, one job at a time,
/// until every sender is gone. A job that panics (a bug) fails its own caller only:
/// the worker goes on with the next job, so the hasher keeps its capacity.
fn work(received: &Mutex<Receiver<Job>>, params: &Params) {
    let mut engine = Engine::new(params);
    loop {
        let job = {
            let Ok(guard) = received.lock() else { return };
            match guard.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        // The engine holds no state between jobs but its memory, which every hash
        // overwrites before reading, so it is sound to reuse after a panic.
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut engine))).is_err() {
            tracing::error!("a password hashing job panicked; its caller gets an error");
        }
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("workers", &self.queue.workers)
            .field("queue", &self.queue.capacity)
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

    /// A hash made by the `argon2` crate's own allocating API (as every stored hash
    /// before the worker threads was): it still verifies, and ours verify there.
    #[tokio::test]
    async fn hashes_from_the_library_api_verify_and_ours_verify_there() {
        use argon2::password_hash::PasswordVerifier as _;

        let hasher = hasher();
        let library =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19_456, 2, 1, None).unwrap());
        let old = library.hash_password(b"correct horse").unwrap().to_string();
        let old = PasswordHash::from_phc(old);
        assert!(hasher.verify(password("correct horse"), Some(&old)).await.unwrap());
        assert!(!hasher.verify(password("wrong horse!"), Some(&old)).await.unwrap());

        let ours = hasher.hash(password("correct horse")).await.unwrap();
        let parsed = PhcHash::new(ours.as_phc()).unwrap();
        assert!(library.verify_password(b"correct horse", &parsed).is_ok());
        assert!(library.verify_password(b"wrong horse!", &parsed).is_err());
    }

    /// Hashes made with other costs (cheaper, or costlier than the worker's memory)
    /// still verify.
    #[tokio::test]
    async fn hashes_with_other_costs_still_verify() {
        let hasher =
            PasswordHasher::new(Argon2Settings { memory_kib: 64, iterations: 1, parallelism: 1 }, 1).unwrap();
        for (m, t, p) in [(32, 1, 1), (256, 2, 2), (19_456, 2, 1)] {
            let library =
                Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, t, p, None).unwrap());
            let stored = PasswordHash::from_phc(library.hash_password(b"correct horse").unwrap().to_string());
            assert!(hasher.verify(password("correct horse"), Some(&stored)).await.unwrap(), "m={m}");
            assert!(!hasher.verify(password("wrong horse!"), Some(&stored)).await.unwrap(), "m={m}");
        }
    }

    #[tokio::test]
    async fn beyond_the_queue_calls_are_refused_at_once_and_the_rest_succeed() {
        let hasher = PasswordHasher::with_queue(Argon2Settings::OWASP, 1, 2).unwrap();
        assert_eq!((hasher.workers(), hasher.queue_capacity()), (1, 2));
        let started = std::time::Instant::now();
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move {
                    let result = hasher.hash(password("correct horse")).await;
                    (result, started.elapsed())
                })
            })
            .collect();
        let (mut done, mut busy) = (0, 0);
        for call in calls {
            match call.await.unwrap() {
                (Ok(_), _) => done += 1,
                (Err(HashingError::Busy { retry_after }), after) => {
                    assert_eq!(retry_after, BUSY_RETRY_AFTER);
                    assert!(after < Duration::from_millis(500), "refused after {after:?}");
                    busy += 1;
                }
                (Err(error), _) => panic!("{error}"),
            }
        }
        // One running and two waiting at most; the first two or three get in.
        assert!(done >= 2 && done + busy == 12 && busy >= 1, "{done} done, {busy} busy");
        // Once the burst is over, the hasher serves again.
        assert!(hasher.hash(password("correct horse")).await.is_ok());
    }

    #[tokio::test]
    async fn room_is_refused_while_the_queue_is_full_and_given_again_after() {
        let hasher = PasswordHasher::with_queue(Argon2Settings::OWASP, 1, 1).unwrap();
        assert!(hasher.check_room().is_ok(), "an idle hasher has room");
        // Calls polled once each and then dropped: their jobs stay, running or
        // waiting, until done. The third at the latest finds the queue full.
        for _ in 0..3 {
            let call = hasher.hash(password("correct horse"));
            if let Ok(refused) = tokio::time::timeout(Duration::ZERO, call).await {
                assert!(matches!(refused, Err(HashingError::Busy { .. })), "{refused:?}");
                break;
            }
        }
        assert!(matches!(hasher.check_room(), Err(HashingError::Busy { .. })), "room while full");
        let mut waited = Duration::ZERO;
        while hasher.check_room().is_err() {
            assert!(waited < Duration::from_secs(30), "the queue never emptied");
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += Duration::from_millis(10);
        }
        assert!(hasher.hash(password("correct horse")).await.is_ok());
    }

    #[tokio::test]
    async fn a_reserved_room_counts_until_used_or_dropped() {
        let hasher = PasswordHasher::with_queue(Argon2Settings::OWASP, 1, 0).unwrap();
        let room = hasher.reserve().unwrap();
        assert!(matches!(hasher.check_room(), Err(HashingError::Busy { .. })), "the only room is taken");
        assert!(matches!(hasher.reserve(), Err(HashingError::Busy { .. })));
        drop(room);
        assert!(hasher.check_room().is_ok(), "a room dropped unused is given back");
        let stored = hasher.reserve().unwrap().hash(password("correct horse")).await.unwrap();
        assert!(hasher.check_room().is_ok(), "a room used is given back when the hash is done");
        assert!(hasher.verify(password("correct horse"), Some(&stored)).await.unwrap());
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_its_caller_only() {
        let hasher = PasswordHasher::with_queue(Argon2Settings::OWASP, 1, 0).unwrap();
        let panicked = hasher.run(|_| -> () { panic!("a bug in a hashing job") }).await;
        assert!(matches!(panicked, Err(HashingError::Failed(_))), "{panicked:?}");
        assert!(hasher.check_room().is_ok(), "the panicked job's room is given back");
        let stored = hasher.hash(password("correct horse")).await;
        assert!(stored.is_ok(), "the only worker goes on after the panic: {stored:?}");
    }

    #[tokio::test]
    async fn salts_differ_between_hashes() {
        let hasher = hasher();
        let first = hasher.hash(password("same password")).await.unwrap();
        let second = hasher.hash(password("same password")).await.unwrap();
        assert_ne!(first, second);
    }
}
