//! The in-process cache of token checks: verified signatures, live sessions and enabled
//! accounts, so a hot access token costs lookups rather than an Ed25519 verification
//! and two database reads.
//!
//! Entries are forgotten when a [`Revocation`] says so (published by this instance or
//! pushed from another), when they are older than the cache's time to live, and, while
//! the revocation feed is not listening, when they are older than the staleness bound.
//!
//! Races with revocations: every eviction moves a generation counter. A lookup that
//! misses notes the generation before it reads storage, and an entry stored from that
//! read is dropped again if the generation has moved since, so a read that began
//! before a revocation never outlives it in the cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::crypto::{AccessClaims, TokenError};
use crate::domain::{SessionId, User, UserId};
use crate::policy::TokenCachePolicy;
use crate::ports::{Revocation, RevocationFeed, RevocationNotice};

/// The SHA-256 of a token: what the signature cache is keyed by.
type TokenDigest = [u8; 32];

/// A session as it was read: its owner and when it ends.
#[derive(Debug, Clone, Copy)]
struct CachedSession {
    user_id: UserId,
    ends_at: OffsetDateTime,
    read_at: OffsetDateTime,
    generation: u64,
}

/// An enabled account as it was read.
#[derive(Debug, Clone)]
struct CachedUser {
    user: User,
    read_at: OffsetDateTime,
    generation: u64,
}

/// Keeps each verified token until its own expiry (by the system clock), at most.
struct UntilTokenExpiry;

impl Expiry<TokenDigest, Arc<AccessClaims>> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _key: &TokenDigest,
        claims: &Arc<AccessClaims>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let left = claims.expires_at - OffsetDateTime::now_utc();
        Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
    }
}

/// A ticket for storing what a storage read found: the generation when the read began.
#[derive(Debug, Clone, Copy)]
pub struct ReadTicket(u64);

/// The cache of token checks of one process. Cheap to share (`Arc`).
pub struct TokenCache {
    signatures: Option<Cache<TokenDigest, Arc<AccessClaims>>>,
    sessions: Option<Cache<SessionId, CachedSession>>,
    users: Option<Cache<UserId, Arc<CachedUser>>>,
    ttl: Duration,
    staleness: Duration,
    /// Moves at every eviction.
    generation: AtomicU64,
    /// Entries read before this generation are void (an account revocation, or the
    /// feed listening again after it missed some).
    void_before: AtomicU64,
    /// Whether the revocation feed is listening now.
    listening: AtomicBool,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("enabled", &self.sessions.is_some())
            .field("ttl", &self.ttl)
            .field("staleness", &self.staleness)
            .field("listening", &self.listening.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// An empty cache under `policy` (ages are judged by the `now` each call is given).
    /// It starts not listening:
    /// until [`TokenCache::follow`] hears its feed listen, entries are trusted only
    /// within the staleness bound.
    pub fn new(policy: TokenCachePolicy) -> Self {
        let enabled = policy.enabled();
        let signatures = enabled
            .then(|| Cache::builder().max_capacity(policy.capacity).expire_after(UntilTokenExpiry).build());
        let sessions =
            enabled.then(|| Cache::builder().max_capacity(policy.capacity).time_to_live(policy.ttl).build());
        let users =
            enabled.then(|| Cache::builder().max_capacity(policy.capacity).time_to_live(policy.ttl).build());
        Self {
            signatures,
            sessions,
            users,
            ttl: policy.ttl,
            staleness: policy.staleness,
            generation: AtomicU64::new(0),
            void_before: AtomicU64::new(0),
            listening: AtomicBool::new(false),
        }
    }

    /// A cache that holds nothing: every check goes to storage.
    pub fn disabled() -> Self {
        Self::new(TokenCachePolicy { capacity: 0, ..TokenCachePolicy::default() })
    }

    /// Whether revocations are being received now.
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    /// The claims of `token` verified at `now`: from the cache when this token verified
    /// before and has not expired since, else from `verify` (and cached when it passes).
    ///
    /// # Errors
    /// [`TokenError::Expired`] for a cached token past its expiry; whatever `verify`
    /// says otherwise.
    pub fn verified(
        &self,
        token: &str,
        now: OffsetDateTime,
        verify: impl FnOnce() -> Result<AccessClaims, TokenError>,
    ) -> Result<AccessClaims, TokenError> {
        let Some(signatures) = &self.signatures else { return verify() };
        let digest: TokenDigest = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = signatures.get(&digest) {
            if claims.expires_at <= now {
                signatures.invalidate(&digest);
                return Err(TokenError::Expired);
            }
            return Ok(AccessClaims::clone(&claims));
        }
        let claims = verify()?;
        signatures.insert(digest, Arc::new(claims.clone()));
        Ok(claims)
    }

    /// Taken before reading a session or an account from storage, to store what was read.
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(self.generation.load(Ordering::SeqCst))
    }

    /// When session `id` ends, if it is cached, trusted at `now` and owned by `owner`.
    /// `None` means: read storage.
    pub fn session(&self, id: SessionId, owner: UserId, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let cached = self.sessions.as_ref()?.get(&id)?;
        (cached.user_id == owner && self.trusted(cached.read_at, cached.generation, now))
            .then_some(cached.ends_at)
    }

    /// Remembers that session `id` of `owner` was live when read with `ticket`, until
    /// `ends_at`.
    pub fn remember_session(
        &self,
        ticket: ReadTicket,
        id: SessionId,
        owner: UserId,
        ends_at: OffsetDateTime,
        now: OffsetDateTime,
    ) {
        let Some(sessions) = &self.sessions else { return };
        let entry = CachedSession { user_id: owner, ends_at, read_at: now, generation: ticket.0 };
        sessions.insert(id, entry);
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            sessions.invalidate(&id);
        }
    }

    /// Account `id`, if it is cached and trusted at `now` (only enabled accounts are).
    pub fn user(&self, id: UserId, now: OffsetDateTime) -> Option<User> {
        let cached = self.users.as_ref()?.get(&id)?;
        self.trusted(cached.read_at, cached.generation, now).then(|| cached.user.clone())
    }

    /// Remembers an enabled account as read with `ticket`.
    pub fn remember_user(&self, ticket: ReadTicket, user: &User, now: OffsetDateTime) {
        let Some(users) = &self.users else { return };
        if user.disabled {
            return;
        }
        let id = user.id;
        users.insert(id, Arc::new(CachedUser { user: user.clone(), read_at: now, generation: ticket.0 }));
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            users.invalidate(&id);
        }
    }

    /// Forgets what `revocation` names: one session, or an account and (since which
    /// sessions it had is not known here) every cached session.
    pub fn revoke(&self, revocation: Revocation) {
        match revocation {
            Revocation::Session(id) => {
                self.generation.fetch_add(1, Ordering::SeqCst);
                if let Some(sessions) = &self.sessions {
                    sessions.invalidate(&id);
                }
            }
            Revocation::Account(_) => self.void_everything(),
        }
    }

    /// Forgets this process's copy of account `id` only (a change that matters to no
    /// token, such as the address becoming verified): other instances see the change
    /// when their copy expires.
    pub fn forget_user(&self, id: UserId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(users) = &self.users {
            users.invalidate(&id);
        }
    }

    /// Listens to `feed` until it ends: evicts what each revocation names, distrusts
    /// entries older than the staleness bound while the feed is not listening, and
    /// forgets everything when it listens again (it may have missed revocations).
    pub async fn follow(&self, mut feed: Box<dyn RevocationFeed>) {
        while let Some(notice) = feed.next().await {
            self.notice(notice);
        }
        self.listening.store(false, Ordering::SeqCst);
        metrics::gauge!("otp_revocations_listening").set(0.0);
        // A feed ends only with its channel: the process is stopping.
        tracing::debug!(
            "the revocation feed ended; cached token checks are trusted within the staleness bound only"
        );
    }

    /// Applies one notice of the revocation feed.
    pub fn notice(&self, notice: RevocationNotice) {
        match notice {
            RevocationNotice::Listening => {
                self.void_everything();
                metrics::gauge!("otp_revocations_listening").set(1.0);
                if !self.listening.swap(true, Ordering::SeqCst) {
                    tracing::info!("receiving revocations");
                }
            }
            RevocationNotice::Lost => {
                metrics::gauge!("otp_revocations_listening").set(0.0);
                if self.listening.swap(false, Ordering::SeqCst) {
                    tracing::warn!(
                        staleness = ?self.staleness,
                        "not receiving revocations; cached token checks are trusted within the staleness bound only"
                    );
                }
            }
            RevocationNotice::Revoked(revocation) => self.revoke(revocation),
        }
    }

    fn void_everything(&self) {
        let next = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.void_before.fetch_max(next, Ordering::SeqCst);
        if let Some(sessions) = &self.sessions {
            sessions.invalidate_all();
        }
        if let Some(users) = &self.users {
            users.invalidate_all();
        }
    }

    fn trusted(&self, read_at: OffsetDateTime, generation: u64, now: OffsetDateTime) -> bool {
        let age = now - read_at;
        generation >= self.void_before.load(Ordering::SeqCst)
            && age < self.ttl
            && (self.is_listening() || age < self.staleness)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use uuid::Uuid;

    use super::*;
    use crate::domain::EmailAddress;
    use crate::ports::Clock;

    #[derive(Debug)]
    struct Manual(Mutex<OffsetDateTime>);

    impl Clock for Manual {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    fn cache() -> (TokenCache, Arc<Manual>) {
        let clock = Arc::new(Manual(Mutex::new(OffsetDateTime::now_utc())));
        let policy = TokenCachePolicy {
            capacity: 100,
            ttl: Duration::from_secs(30),
            staleness: Duration::from_secs(5),
        };
        (TokenCache::new(policy), clock)
    }

    fn advance(clock: &Manual, seconds: i64) {
        *clock.0.lock().unwrap() += time::Duration::seconds(seconds);
    }

    fn claims(now: OffsetDateTime, lifetime_seconds: i64) -> AccessClaims {
        AccessClaims {
            user_id: UserId::generate(),
            session_id: SessionId::generate(),
            token_id: Uuid::new_v4(),
            issued_at: now,
            expires_at: now + time::Duration::seconds(lifetime_seconds),
            email: None,
            email_verified: None,
            amr: Vec::new(),
            role: None,
        }
    }

    fn user() -> User {
        let email = EmailAddress::parse(&format!("{}@example.com", Uuid::new_v4().simple())).unwrap();
        User::new_verified(email, OffsetDateTime::now_utc())
    }

    #[test]
    fn a_verified_token_is_verified_once_until_it_expires() {
        let (cache, clock) = cache();
        let now = clock.now();
        let signed = claims(now, 60);
        let mut verifications = 0;
        for _ in 0..3 {
            let found = cache.verified("token", clock.now(), || {
                verifications += 1;
                Ok(signed.clone())
            });
            assert_eq!(found.unwrap(), signed);
        }
        assert_eq!(verifications, 1);
        advance(&clock, 60);
        let late = cache.verified("token", clock.now(), || panic!("a cached token is not verified again"));
        assert_eq!(late, Err(TokenError::Expired));
    }

    #[test]
    fn refused_tokens_are_not_cached() {
        let (cache, clock) = cache();
        let mut verifications = 0;
        for _ in 0..2 {
            let result = cache.verified("forged", clock.now(), || {
                verifications += 1;
                Err(TokenError::Invalid)
            });
            assert_eq!(result, Err(TokenError::Invalid));
        }
        assert_eq!(verifications, 2);
    }

    #[test]
    fn while_listening_entries_are_trusted_for_the_ttl() {
        let (cache, clock) = cache();
        cache.notice(RevocationNotice::Listening);
        let (session, owner, ends) =
            (SessionId::generate(), UserId::generate(), clock.now() + time::Duration::hours(1));
        cache.remember_session(cache.ticket(), session, owner, ends, clock.now());
        assert_eq!(cache.session(session, owner, clock.now()), Some(ends));
        assert_eq!(cache.session(session, UserId::generate(), clock.now()), None, "another owner");
        advance(&clock, 29);
        assert_eq!(cache.session(session, owner, clock.now()), Some(ends));
        advance(&clock, 1);
        assert_eq!(cache.session(session, owner, clock.now()), None);
    }

    #[test]
    fn while_not_listening_entries_older_than_the_staleness_bound_are_not_trusted() {
        let (cache, clock) = cache();
        let account = user();
        let session = SessionId::generate();
        let ends = clock.now() + time::Duration::hours(1);
        cache.notice(RevocationNotice::Listening);
        cache.remember_user(cache.ticket(), &account, clock.now());
        cache.remember_session(cache.ticket(), session, account.id, ends, clock.now());
        advance(&clock, 6);
        assert!(cache.user(account.id, clock.now()).is_some());
        cache.notice(RevocationNotice::Lost);
        assert!(!cache.is_listening());
        assert!(cache.user(account.id, clock.now()).is_none());
        assert!(cache.session(session, account.id, clock.now()).is_none());
        // Read again while not listening: trusted within the bound only.
        cache.remember_user(cache.ticket(), &account, clock.now());
        advance(&clock, 4);
        assert!(cache.user(account.id, clock.now()).is_some());
        advance(&clock, 1);
        assert!(cache.user(account.id, clock.now()).is_none());
    }

    #[test]
    fn listening_again_forgets_what_was_read_before() {
        let (cache, clock) = cache();
        let account = user();
        cache.notice(RevocationNotice::Lost);
        cache.remember_user(cache.ticket(), &account, clock.now());
        cache.notice(RevocationNotice::Listening);
        assert!(cache.user(account.id, clock.now()).is_none(), "revocations may have been missed meanwhile");
        cache.remember_user(cache.ticket(), &account, clock.now());
        assert!(cache.user(account.id, clock.now()).is_some());
    }

    #[test]
    fn a_session_revocation_evicts_that_session_only() {
        let (cache, clock) = cache();
        cache.notice(RevocationNotice::Listening);
        let owner = UserId::generate();
        let ends = clock.now() + time::Duration::hours(1);
        let (ended, other) = (SessionId::generate(), SessionId::generate());
        for id in [ended, other] {
            cache.remember_session(cache.ticket(), id, owner, ends, clock.now());
        }
        cache.notice(RevocationNotice::Revoked(Revocation::Session(ended)));
        assert_eq!(cache.session(ended, owner, clock.now()), None);
        assert_eq!(cache.session(other, owner, clock.now()), Some(ends));
    }

    #[test]
    fn an_account_revocation_evicts_the_account_and_every_session() {
        let (cache, clock) = cache();
        cache.notice(RevocationNotice::Listening);
        let account = user();
        let session = SessionId::generate();
        cache.remember_user(cache.ticket(), &account, clock.now());
        cache.remember_session(
            cache.ticket(),
            session,
            account.id,
            clock.now() + time::Duration::hours(1),
            clock.now(),
        );
        cache.revoke(Revocation::Account(account.id));
        assert!(cache.user(account.id, clock.now()).is_none());
        assert!(cache.session(session, account.id, clock.now()).is_none());
    }

    #[test]
    fn a_read_that_began_before_a_revocation_is_not_kept() {
        let (cache, clock) = cache();
        cache.notice(RevocationNotice::Listening);
        let (session, owner) = (SessionId::generate(), UserId::generate());
        let ticket = cache.ticket();
        // The revocation lands while the read is in flight.
        cache.revoke(Revocation::Session(session));
        cache.remember_session(ticket, session, owner, clock.now() + time::Duration::hours(1), clock.now());
        assert_eq!(cache.session(session, owner, clock.now()), None);
        let account = user();
        let ticket = cache.ticket();
        cache.revoke(Revocation::Account(UserId::generate()));
        cache.remember_user(ticket, &account, clock.now());
        assert!(cache.user(account.id, clock.now()).is_none());
    }

    #[test]
    fn disabled_accounts_and_a_disabled_cache_hold_nothing() {
        let (cache, clock) = cache();
        cache.notice(RevocationNotice::Listening);
        let disabled = User { disabled: true, ..user() };
        cache.remember_user(cache.ticket(), &disabled, clock.now());
        assert!(cache.user(disabled.id, clock.now()).is_none());

        let off = TokenCache::disabled();
        off.notice(RevocationNotice::Listening);
        let account = user();
        off.remember_user(off.ticket(), &account, clock.now());
        assert!(off.user(account.id, clock.now()).is_none());
        let mut verifications = 0;
        for _ in 0..2 {
            off.verified("token", clock.now(), || {
                verifications += 1;
                Ok(claims(clock.now(), 60))
            })
            .unwrap();
        }
        assert_eq!(verifications, 2);
    }

    #[test]
    fn forgetting_an_account_locally_leaves_its_sessions() {
        let (cache, clock) = cache();
        cache.notice(RevocationNotice::Listening);
        let account = user();
        let session = SessionId::generate();
        let ends = clock.now() + time::Duration::hours(1);
        cache.remember_user(cache.ticket(), &account, clock.now());
        cache.remember_session(cache.ticket(), session, account.id, ends, clock.now());
        cache.forget_user(account.id);
        assert!(cache.user(account.id, clock.now()).is_none());
        assert_eq!(cache.session(session, account.id, clock.now()), Some(ends));
    }
}
