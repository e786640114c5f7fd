//! The port contract suites, and what only a shared Redis can show: keys that expire,
//! atomicity across pools, bounded failures, and no addresses in keys.
//!
//! Needs Redis at `redis://127.0.0.1:6379` (or `TEST_REDIS_URL`); each test works under
//! its own key prefix `otp-test:{uuid}:`, whose keys are deleted when it ends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use otp_core::ports::{CodeStore, OAuthStateStore, Probe, RateLimiter};
use otp_redis::{RedisCodeStore, RedisConfig, RedisOAuthStateStore, RedisProbe, RedisRateLimiter, connect};
use otp_test_support::{TestRedis, fresh_key_prefix, live_pool, redis_server_url};
use secrecy::SecretString;

/// Redis at the test address under a fresh key prefix, for configurations that do not
/// need it to answer; tests that write get a [`TestRedis`], which cleans up after them.
fn test_config() -> RedisConfig {
    RedisConfig { key_prefix: fresh_key_prefix(), ..RedisConfig::new(SecretString::from(redis_server_url())) }
}

/// `host:port` of a `redis://[credentials@]host:port[/db]` URL.
fn host_and_port(url: &str) -> String {
    let rest = url.trim_start_matches("redis://");
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority).to_owned()
}

mod codes {
    use super::*;
    otp_core::code_store_contract!(async {
        let redis = TestRedis::new().await;
        (Arc::new(RedisCodeStore::new(redis.pool())) as Arc<dyn CodeStore>, redis)
    });
}

mod rate_limits {
    use super::*;
    otp_core::rate_limiter_contract!(async {
        let redis = TestRedis::new().await;
        (Arc::new(RedisRateLimiter::new(redis.pool())) as Arc<dyn RateLimiter>, redis)
    });
}

/// The code store beside its limiter: both counted and issued in one script.
mod codes_within_limits {
    use otp_core::testing::codes_within::CodesBesideLimits;

    use super::*;
    otp_core::code_store_within_limits_contract!(async {
        let redis = TestRedis::new().await;
        let limiter = RedisRateLimiter::new(redis.pool());
        let codes = Arc::new(RedisCodeStore::sharing(&limiter));
        (CodesBesideLimits { codes, limiter: Arc::new(limiter) }, redis)
    });
}

/// A code store built without its limiter answers `None`, doing nothing.
mod codes_apart_from_limits {
    use otp_core::testing::codes_within::CodesBesideLimits;

    use super::*;
    otp_core::code_store_within_limits_contract!(async {
        let redis = TestRedis::new().await;
        let codes = Arc::new(RedisCodeStore::new(redis.pool()));
        (CodesBesideLimits { codes, limiter: Arc::new(RedisRateLimiter::new(redis.pool())) }, redis)
    });
}

mod oauth_states {
    use super::*;
    otp_core::oauth_state_store_contract!(async {
        let redis = TestRedis::new().await;
        (Arc::new(RedisOAuthStateStore::new(redis.pool())) as Arc<dyn OAuthStateStore>, redis)
    });
}

mod revocations {
    use otp_core::ports::RevocationChannel;
    use otp_redis::RedisRevocationChannel;

    use super::*;
    otp_core::revocation_channel_contract!(async {
        let redis = TestRedis::new().await;
        let channel = RedisRevocationChannel::new(redis.pool(), &redis.config()).unwrap();
        (Arc::new(channel) as Arc<dyn RevocationChannel>, redis)
    });

    use std::time::Duration;

    use otp_core::SessionId;
    use otp_core::ports::{Revocation, RevocationFeed, RevocationNotice};
    use otp_test_support::TcpProxy;

    async fn next(feed: &mut Box<dyn RevocationFeed>) -> RevocationNotice {
        tokio::time::timeout(Duration::from_secs(10), feed.next()).await.unwrap().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_feed_whose_connection_is_cut_says_so_and_listens_again_when_it_can() {
        let redis = TestRedis::new().await;
        let proxy = TcpProxy::start(&host_and_port(redis.url())).await;
        let through_proxy = RedisConfig {
            url: SecretString::from(format!("redis://127.0.0.1:{}", proxy.port())),
            ..redis.config()
        };
        // Published directly, received through the proxy.
        let channel = RedisRevocationChannel::new(redis.pool(), &through_proxy).unwrap();
        let mut feed = channel.subscribe();
        assert_eq!(next(&mut feed).await, RevocationNotice::Listening);

        proxy.cut();
        assert_eq!(next(&mut feed).await, RevocationNotice::Lost);
        let missed = Revocation::Session(SessionId::generate());
        channel.publish(missed).await.unwrap();

        proxy.restore();
        assert_eq!(next(&mut feed).await, RevocationNotice::Listening);
        let delivered = Revocation::Session(SessionId::generate());
        channel.publish(delivered).await.unwrap();
        assert_eq!(
            next(&mut feed).await,
            RevocationNotice::Revoked(delivered),
            "the missed one is not replayed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_feed_that_cannot_subscribe_says_it_is_not_listening() {
        let redis = TestRedis::new().await;
        let proxy = TcpProxy::start(&host_and_port(redis.url())).await;
        proxy.cut();
        let unreachable = RedisConfig {
            url: SecretString::from(format!("redis://127.0.0.1:{}", proxy.port())),
            ..redis.config()
        };
        let channel = RedisRevocationChannel::new(redis.pool(), &unreachable).unwrap();
        let mut feed = channel.subscribe();
        assert_eq!(next(&mut feed).await, RevocationNotice::Lost);
    }
}

mod redis {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use deadpool_redis::redis::{self as client, aio::MultiplexedConnection};
    use otp_core::crypto::{Argon2Settings, CodeHash, KeyedHasher, Keyring, PasswordHasher, SigningKey};
    use otp_core::domain::CodePurpose;
    use otp_core::ports::{
        CodeKey, EXPIRED_STATE_RETENTION, IssueOutcome, NewCode, PendingAuthorization, RateDecision,
        RateLimit, VerifyOutcome, Within,
    };
    use otp_core::service::{Revocations, SignInPorts, TokenCache};
    use otp_core::testing::instant;
    use otp_core::{
        AuthPolicy, ClientContext, EmailAddress, OtpCode, PortError, Secrets, SignInError, SignInService,
    };
    use otp_memory::{ManualClock, MemorySessionRepository, MemoryUserRepository, RecordingMailer};
    use time::OffsetDateTime;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const TTL: Duration = Duration::from_secs(300);
    const COOLDOWN: Duration = Duration::from_secs(60);

    fn hasher() -> KeyedHasher {
        KeyedHasher::new(&[9; 32]).unwrap()
    }

    fn code_key() -> CodeKey {
        let email = EmailAddress::parse(&format!("u-{}@example.com", uuid::Uuid::new_v4().simple())).unwrap();
        CodeKey { purpose: CodePurpose::SignIn, subject: hasher().email_digest(&email) }
    }

    fn hash(digits: &str) -> CodeHash {
        let email = EmailAddress::parse("redis@example.com").unwrap();
        hasher().code_hash(CodePurpose::SignIn, &email, &OtpCode::parse(digits, 6).unwrap())
    }

    fn new_code(hash: CodeHash, now: OffsetDateTime) -> NewCode {
        NewCode { hash, expires_at: now + TTL, max_attempts: 5, cooldown: COOLDOWN }
    }

    async fn raw_connection() -> MultiplexedConnection {
        client::Client::open(redis_server_url()).unwrap().get_multiplexed_async_connection().await.unwrap()
    }

    /// Every key under `prefix`, with its TTL in milliseconds.
    async fn keys_with_ttls(prefix: &str) -> Vec<(String, i64)> {
        let mut connection = raw_connection().await;
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = client::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut connection)
                .await
                .unwrap();
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let mut with_ttls = Vec::new();
        for key in keys {
            let ttl: i64 = client::cmd("PTTL").arg(&key).query_async(&mut connection).await.unwrap();
            with_ttls.push((key, ttl));
        }
        with_ttls.sort();
        with_ttls
    }

    /// Two adapters of each kind on separate pools sharing one Redis and one prefix, as
    /// two instances of the service would be.
    async fn two_instances() -> (TestRedis, [Arc<dyn CodeStore>; 2], [Arc<dyn RateLimiter>; 2]) {
        let redis = TestRedis::new().await;
        let (first, second) = (redis.pool(), redis.pool());
        (
            redis,
            [Arc::new(RedisCodeStore::new(first.clone())), Arc::new(RedisCodeStore::new(second.clone()))],
            [Arc::new(RedisRateLimiter::new(first)), Arc::new(RedisRateLimiter::new(second))],
        )
    }

    /// Redis at `url`, with short time-outs.
    fn quick_timeouts(url: String) -> RedisConfig {
        RedisConfig {
            url: SecretString::from(url),
            connect_timeout: Duration::from_millis(300),
            wait_timeout: Duration::from_millis(300),
            response_timeout: Duration::from_millis(300),
            ..test_config()
        }
    }

    /// How long an operation on `config` may take to fail: its deadline, plus leeway for
    /// a busy test machine.
    fn bound(config: &RedisConfig) -> Duration {
        config.max_operation_time() + Duration::from_secs(1)
    }

    /// Every operation and the probe fail as `Unavailable`, each within the deadline.
    async fn assert_unavailable_promptly(config: &RedisConfig) {
        let pool = connect(config).unwrap();
        let (codes, limiter, probe) =
            (RedisCodeStore::new(pool.clone()), RedisRateLimiter::new(pool.clone()), RedisProbe::new(pool));
        let (key, now) = (code_key(), instant());
        let bound = bound(config);

        let started = Instant::now();
        let error = codes.verify(&key, &hash("123456"), now).await.unwrap_err();
        assert!(started.elapsed() < bound, "verify took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("verifying a code"), "{error}");

        let started = Instant::now();
        let error = codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap_err();
        assert!(started.elapsed() < bound, "issue took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("issuing a code"), "{error}");

        let started = Instant::now();
        let limit = RateLimit { max: 3, window: Duration::from_secs(60) };
        let error = limiter.hit("ip:test", limit, now).await.unwrap_err();
        assert!(started.elapsed() < bound, "hit took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains("counting a rate-limit hit"), "{error}");

        let started = Instant::now();
        assert_eq!(probe.name(), "redis");
        let error = probe.check().await.unwrap_err();
        assert!(started.elapsed() < bound, "the probe took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_key_written_carries_a_ttl() {
        let redis = TestRedis::new().await;
        let pool = redis.pool();
        let (codes, limiter) = (RedisCodeStore::new(pool.clone()), RedisRateLimiter::new(pool));
        let now = instant();

        let used = code_key();
        codes.issue(&used, &new_code(hash("111111"), now), now).await.unwrap();
        codes.verify(&used, &hash("999999"), now).await.unwrap();
        assert_eq!(codes.verify(&used, &hash("111111"), now).await.unwrap(), VerifyOutcome::Accepted);
        let refused = codes.issue(&used, &new_code(hash("222222"), now), now).await.unwrap();
        assert!(matches!(refused, IssueOutcome::CoolingDown { .. }), "{refused:?}");

        let pending = code_key();
        codes.issue(&pending, &new_code(hash("333333"), now), now).await.unwrap();
        for _ in 0..6 {
            codes.verify(&pending, &hash("999999"), now).await.unwrap();
        }

        let no_cooldown = code_key();
        let code = NewCode { cooldown: Duration::ZERO, ..new_code(hash("444444"), now) };
        codes.issue(&no_cooldown, &code, now).await.unwrap();

        // Expired more than the retention ago: nothing is worth keeping, and nothing is
        // written without a TTL.
        let dead = code_key();
        let code = NewCode { expires_at: now - Duration::from_secs(7200), ..new_code(hash("555555"), now) };
        assert_eq!(codes.issue(&dead, &code, now).await.unwrap(), IssueOutcome::Issued);
        assert_eq!(codes.verify(&dead, &hash("555555"), now).await.unwrap(), VerifyOutcome::NotFound);

        let limit = RateLimit { max: 2, window: Duration::from_secs(60) };
        for _ in 0..3 {
            limiter.hit("ip:send_code:127.0.0.1", limit, now).await.unwrap();
        }
        let nothing_allowed = RateLimit { max: 0, window: Duration::from_secs(60) };
        let decision = limiter.hit("ip:login:127.0.0.1", nothing_allowed, now).await.unwrap();
        assert_eq!(decision, RateDecision::Limited { retry_after: Duration::from_secs(60) });
        let tiny = RateLimit { max: 1, window: Duration::ZERO };
        limiter.hit("ip:refresh:127.0.0.1", tiny, now).await.unwrap();

        let keys = keys_with_ttls(redis.key_prefix()).await;
        let names: Vec<&str> =
            keys.iter().map(|(key, _)| key.strip_prefix(redis.key_prefix()).unwrap()).collect();
        let expected = [
            format!("code:sign_in:{{{}}}", no_cooldown.subject),
            format!("code:sign_in:{{{}}}", pending.subject),
            format!("cooldown:sign_in:{{{}}}", dead.subject),
            format!("cooldown:sign_in:{{{}}}", pending.subject),
            format!("cooldown:sign_in:{{{}}}", used.subject),
            "rate:ip:send_code:127.0.0.1".to_owned(),
        ];
        let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
        // The 1 ms window of `ip:refresh` may already have expired.
        let found: BTreeSet<&str> =
            names.iter().copied().filter(|name| !name.starts_with("rate:ip:refresh")).collect();
        assert_eq!(found, expected);
        for (key, ttl) in &keys {
            if key.contains("rate:ip:refresh") {
                // A 1 ms TTL: it may be down to 0 or gone (-2) by now, but it was set (not -1).
                assert!(*ttl != -1, "{key} has no TTL");
            } else {
                assert!(*ttl > 0, "{key} has PTTL {ttl}");
            }
        }
        let ttl_of =
            |suffix: &str| keys.iter().find(|(key, _)| key.ends_with(suffix)).map(|(_, ttl)| *ttl).unwrap();
        let code_ttl = ttl_of(&format!("code:sign_in:{{{}}}", pending.subject));
        assert!(
            code_ttl > 3_600_000 && code_ttl <= 3_900_000,
            "a code lives an hour past its expiry: {code_ttl}"
        );
        let cooldown_ttl = ttl_of(&format!("cooldown:sign_in:{{{}}}", pending.subject));
        assert!(
            cooldown_ttl > 50_000 && cooldown_ttl <= 60_000,
            "a cooldown lives until it ends: {cooldown_ttl}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn instances_with_separate_pools_share_codes_and_counts() {
        let (_redis, [first, second], [first_limiter, second_limiter]) = two_instances().await;
        let now = instant();

        let key = code_key();
        first.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();
        let again = second.issue(&key, &new_code(hash("654321"), now), now).await.unwrap();
        assert!(matches!(again, IssueOutcome::CoolingDown { .. }), "the cooldown is shared: {again:?}");
        assert_eq!(second.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
        assert_eq!(first.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);

        let key = code_key();
        first.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();
        for (guess, left) in (0..5).rev().enumerate() {
            let store = if guess % 2 == 0 { &first } else { &second };
            let outcome = store.verify(&key, &hash("000000"), now).await.unwrap();
            assert_eq!(outcome, VerifyOutcome::Rejected { attempts_remaining: left });
        }
        assert_eq!(second.verify(&key, &hash("000000"), now).await.unwrap(), VerifyOutcome::AttemptsExceeded);
        assert_eq!(first.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::AttemptsExceeded);

        let limit = RateLimit { max: 3, window: Duration::from_secs(60) };
        for limiter in [&first_limiter, &second_limiter, &first_limiter] {
            assert_eq!(limiter.hit("email:login:abc", limit, now).await.unwrap(), RateDecision::Allowed);
        }
        let decision = second_limiter.hit("email:login:abc", limit, now).await.unwrap();
        assert!(matches!(decision, RateDecision::Limited { .. }), "{decision:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_concurrent_right_guesses_through_two_pools_exactly_one_is_accepted() {
        let (_redis, stores, _) = two_instances().await;
        let (key, now, right) = (code_key(), instant(), hash("123456"));
        stores[0].issue(&key, &new_code(right, now), now).await.unwrap();
        let tasks: Vec<_> = (0..100)
            .map(|n| {
                let (store, key) = (Arc::clone(&stores[n % 2]), key.clone());
                tokio::spawn(async move { store.verify(&key, &right, now).await.unwrap() })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        assert_eq!(outcomes.iter().filter(|outcome| **outcome == VerifyOutcome::Accepted).count(), 1);
        assert!(
            outcomes
                .iter()
                .all(|outcome| matches!(outcome, VerifyOutcome::Accepted | VerifyOutcome::NotFound))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_wrong_guesses_through_two_pools_are_capped_at_max_attempts() {
        let (_redis, stores, _) = two_instances().await;
        let (key, now, right) = (code_key(), instant(), hash("123456"));
        stores[0].issue(&key, &new_code(right, now), now).await.unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let (store, key) = (Arc::clone(&stores[n % 2]), key.clone());
                let guess = hash(&format!("{:06}", 200_000 + n));
                tokio::spawn(async move { store.verify(&key, &guess, now).await.unwrap() })
            })
            .collect();
        let mut remaining = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                VerifyOutcome::Rejected { attempts_remaining } => remaining.push(attempts_remaining),
                VerifyOutcome::AttemptsExceeded => {}
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        remaining.sort_unstable();
        assert_eq!(remaining, vec![0, 1, 2, 3, 4], "each try is spent exactly once");
        assert_eq!(stores[1].verify(&key, &right, now).await.unwrap(), VerifyOutcome::AttemptsExceeded);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_hits_through_two_pools_allow_exactly_max() {
        let (_redis, _, limiters) = two_instances().await;
        let now = instant();
        let limit = RateLimit { max: 10, window: Duration::from_secs(60) };
        let tasks: Vec<_> = (0..60)
            .map(|n| {
                let limiter = Arc::clone(&limiters[n % 2]);
                tokio::spawn(async move { limiter.hit("ip:verify_code:10.0.0.1", limit, now).await.unwrap() })
            })
            .collect();
        let mut allowed = 0;
        for task in tasks {
            if task.await.unwrap() == RateDecision::Allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 10);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_closed_port_is_unavailable_within_the_time_outs() {
        assert_unavailable_promptly(&quick_timeouts("redis://127.0.0.1:1".to_owned())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_that_never_answers_is_unavailable_within_the_time_outs() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        assert_unavailable_promptly(&quick_timeouts(format!("redis://{address}"))).await;
        silent.abort();
    }

    /// A TCP proxy to the test Redis that can stop passing bytes, as a Redis that hangs
    /// (or a network that drops packets) would.
    struct FreezableProxy {
        url: String,
        frozen: Arc<AtomicBool>,
        /// Every byte the clients sent, in order per connection.
        sent: Arc<std::sync::Mutex<Vec<u8>>>,
        accepting: tokio::task::JoinHandle<()>,
    }

    impl FreezableProxy {
        async fn start() -> Self {
            let url = redis_server_url();
            let authority =
                url.split("://").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or_default();
            let host_port = authority.rsplit('@').next().unwrap_or_default().to_owned();
            assert!(!host_port.is_empty(), "the proxy test needs a redis://host:port URL, not {url}");
            let upstream =
                if host_port.contains(':') { host_port.clone() } else { format!("{host_port}:6379") };
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = url.replacen(&host_port, &listener.local_addr().unwrap().to_string(), 1);
            let frozen = Arc::new(AtomicBool::new(false));
            let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
            let (flag, record) = (Arc::clone(&frozen), Arc::clone(&sent));
            let accepting = tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let server = TcpStream::connect(&upstream).await.unwrap();
                    let ((from_client, to_client), (from_server, to_server)) =
                        (client.into_split(), server.into_split());
                    tokio::spawn(Self::pipe(
                        from_client,
                        to_server,
                        Arc::clone(&flag),
                        Some(Arc::clone(&record)),
                    ));
                    tokio::spawn(Self::pipe(from_server, to_client, Arc::clone(&flag), None));
                }
            });
            Self { url, frozen, sent, accepting }
        }

        async fn pipe(
            mut from: OwnedReadHalf,
            mut to: OwnedWriteHalf,
            frozen: Arc<AtomicBool>,
            record: Option<Arc<std::sync::Mutex<Vec<u8>>>>,
        ) {
            let mut buffer = vec![0u8; 16 * 1024];
            loop {
                let read = match from.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => read,
                };
                if let Some(record) = &record {
                    record.lock().unwrap().extend_from_slice(&buffer[..read]);
                }
                while frozen.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if to.write_all(&buffer[..read]).await.is_err() {
                    return;
                }
            }
        }

        fn freeze(&self, frozen: bool) {
            self.frozen.store(frozen, Ordering::SeqCst);
        }

        /// How many `PING` commands the clients have sent so far.
        fn pings_sent(&self) -> usize {
            let sent = self.sent.lock().unwrap();
            sent.windows(b"PING".len()).filter(|window| window == b"PING").count()
        }
    }

    impl Drop for FreezableProxy {
        fn drop(&mut self) {
            self.accepting.abort();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redis_that_stops_answering_is_unavailable_within_the_deadline_then_recovers() {
        let proxy = FreezableProxy::start().await;
        let redis = TestRedis::new().await;
        let config = RedisConfig {
            pool_size: 16,
            key_prefix: redis.key_prefix().to_owned(),
            ..quick_timeouts(proxy.url.clone())
        };
        let (codes, probe) = {
            let pool = live_pool(&config).await;
            (Arc::new(RedisCodeStore::new(pool.clone())), RedisProbe::new(pool))
        };
        let now = instant();
        // Open several connections, as a busy instance has: the pool would health-check
        // each in turn (16 x 300 ms) before giving up, were it not for the deadline.
        let warm: Vec<_> = (0..128)
            .map(|_| {
                let codes = Arc::clone(&codes);
                tokio::spawn(async move { codes.verify(&code_key(), &hash("123456"), now).await.unwrap() })
            })
            .collect();
        for task in warm {
            assert_eq!(task.await.unwrap(), VerifyOutcome::NotFound);
        }

        proxy.freeze(true);
        let started = Instant::now();
        let error = codes.verify(&code_key(), &hash("123456"), now).await.unwrap_err();
        assert!(started.elapsed() < bound(&config), "verify took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");
        let started = Instant::now();
        let error = probe.check().await.unwrap_err();
        assert!(started.elapsed() < bound(&config), "the probe took {:?}", started.elapsed());
        assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");

        proxy.freeze(false);
        probe.check().await.unwrap();
        let key = code_key();
        codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();
        assert_eq!(codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    }

    /// A busy connection costs no health-check round trip: it goes back to work at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_reused_at_once_is_not_pinged_first() {
        let proxy = FreezableProxy::start().await;
        let redis = TestRedis::new().await;
        let config = RedisConfig {
            pool_size: 1,
            key_prefix: redis.key_prefix().to_owned(),
            ..quick_timeouts(proxy.url.clone())
        };
        let codes = RedisCodeStore::new(live_pool(&config).await);
        let now = instant();
        codes.verify(&code_key(), &hash("123456"), now).await.unwrap();
        let before = proxy.pings_sent();
        for _ in 0..5 {
            assert_eq!(
                codes.verify(&code_key(), &hash("123456"), now).await.unwrap(),
                VerifyOutcome::NotFound
            );
        }
        assert_eq!(proxy.pings_sent(), before, "five reuses, no PING");
    }

    /// A connection that failed on the link is checked before its next use, and replaced
    /// when it is gone: after the link is cut, one call fails and the next one works.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_connection_whose_link_broke_is_replaced_at_its_next_use() {
        let redis = TestRedis::new().await;
        let proxy = otp_test_support::TcpProxy::start(&host_and_port(redis.url())).await;
        let config = RedisConfig {
            pool_size: 1,
            key_prefix: redis.key_prefix().to_owned(),
            ..quick_timeouts(format!("redis://127.0.0.1:{}", proxy.port()))
        };
        let codes = RedisCodeStore::new(live_pool(&config).await);
        let (key, now) = (code_key(), instant());
        codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();

        proxy.cut();
        proxy.restore();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let failed = codes.verify(&key, &hash("000000"), now).await;
        assert!(matches!(failed, Err(PortError::Unavailable(_))), "{failed:?}");
        assert_eq!(codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pending_sign_in_lives_under_the_hash_of_its_state_until_its_retention_ends() {
        let redis = TestRedis::new().await;
        let store = RedisOAuthStateStore::new(redis.pool());
        let (state, now) = ("the-state-itself-never-reaches-redis", instant());
        let pending = PendingAuthorization {
            provider: "google".to_owned(),
            code_verifier: "v".repeat(43),
            nonce: "n".repeat(43),
            redirect_uri: "http://127.0.0.1:8080/oauth/callback".to_owned(),
            client_binding: hasher().binding_hash("the-binding"),
            expires_at: now + Duration::from_secs(600),
        };
        let key = hasher().state_hash(state);
        store.put(&key, &pending, now).await.unwrap();
        let keys = keys_with_ttls(redis.key_prefix()).await;
        let [(name, ttl)] = keys.as_slice() else { panic!("one key expected: {keys:?}") };
        assert_eq!(name, &format!("{}oauth_state:{}", redis.key_prefix(), key.to_hex()));
        let retention = u64::try_from(*ttl).unwrap();
        let expected = (Duration::from_secs(600) + EXPIRED_STATE_RETENTION).as_millis() as u64;
        assert!(
            retention <= expected && retention > expected - 10_000,
            "PTTL {ttl}, expected about {expected}"
        );
        let value: String =
            client::cmd("GET").arg(name).query_async(&mut raw_connection().await).await.unwrap();
        assert!(!value.contains(state) && !name.contains(state));
        assert_eq!(store.take(&key).await.unwrap(), Some(pending));
        assert!(keys_with_ttls(redis.key_prefix()).await.is_empty(), "taking deletes the key");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_pending_sign_in_is_a_failure_and_is_gone() {
        let redis = TestRedis::new().await;
        let store = RedisOAuthStateStore::new(redis.pool());
        let key = hasher().state_hash("some state");
        let name = format!("{}oauth_state:{}", redis.key_prefix(), key.to_hex());
        let _: () = client::cmd("SET")
            .arg(&name)
            .arg("{not json")
            .arg("PX")
            .arg(60_000)
            .query_async(&mut raw_connection().await)
            .await
            .unwrap();
        let error = store.take(&key).await.unwrap_err();
        assert!(matches!(error, PortError::Failed(_)), "{error:?}");
        assert!(error.to_string().contains("taking a pending sign-in"), "{error}");
        assert_eq!(store.take(&key).await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_answers_when_redis_does() {
        let redis = TestRedis::new().await;
        let probe = RedisProbe::new(redis.pool());
        assert_eq!(probe.name(), "redis");
        probe.check().await.unwrap();
        probe.check().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scripts_are_loaded_again_when_redis_has_lost_them() {
        let redis = TestRedis::new().await;
        let codes = RedisCodeStore::new(redis.pool());
        let (key, now) = (code_key(), instant());
        codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap();
        let _: () =
            client::cmd("SCRIPT").arg("FLUSH").query_async(&mut raw_connection().await).await.unwrap();
        assert_eq!(codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_sharing_its_limiter_counts_with_each_issue_and_check_and_one_built_apart_declines() {
        let redis = TestRedis::new().await;
        let limiter = RedisRateLimiter::new(redis.pool());
        let (key, now) = (code_key(), instant());
        let limit = RateLimit { max: 1, window: Duration::from_secs(60) };
        let hits = [("sharing", limit)];
        let code = new_code(hash("123456"), now);
        let apart = RedisCodeStore::new(redis.pool());
        assert_eq!(apart.issue_within(&hits, &key, &code, now).await.unwrap(), None);
        let sharing = RedisCodeStore::sharing(&limiter);
        let within = sharing.issue_within(&hits, &key, &code, now).await.unwrap();
        assert_eq!(within, Some(Within::Counted(IssueOutcome::Issued)));
        // The hit is the limiter's own: its one hit is spent.
        assert!(matches!(limiter.hit("sharing", limit, now).await.unwrap(), RateDecision::Limited { .. }));
        assert_eq!(apart.verify_within(&[], &key, &hash("123456"), now).await.unwrap(), None);
        let checked = sharing.verify_within(&[("checks", limit)], &key, &hash("123456"), now).await.unwrap();
        assert_eq!(checked, Some(Within::Counted(VerifyOutcome::Accepted)));
        assert!(matches!(limiter.hit("checks", limit, now).await.unwrap(), RateDecision::Limited { .. }));
        assert!(keys_with_ttls(redis.key_prefix()).await.iter().all(|(_, ttl)| *ttl > 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn foreign_data_under_a_key_is_a_failure_not_an_outage() {
        let redis = TestRedis::new().await;
        let codes = RedisCodeStore::new(redis.pool());
        let (key, now) = (code_key(), instant());
        let stray = format!("{}code:sign_in:{{{}}}", redis.key_prefix(), key.subject);
        let _: () = client::cmd("SET")
            .arg(&stray)
            .arg("not a hash")
            .arg("PX")
            .arg(60_000)
            .query_async(&mut raw_connection().await)
            .await
            .unwrap();
        let error = codes.verify(&key, &hash("123456"), now).await.unwrap_err();
        assert!(matches!(error, PortError::Failed(_)), "{error:?}");
        assert!(error.to_string().contains("verifying a code"), "{error}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn subjects_that_are_not_digests_are_refused() {
        let redis = TestRedis::new().await;
        let codes = RedisCodeStore::new(redis.pool());
        let now = instant();
        let key = CodeKey { purpose: CodePurpose::SignIn, subject: "ann@example.com".to_owned() };
        let error = codes.issue(&key, &new_code(hash("123456"), now), now).await.unwrap_err();
        assert!(matches!(error, PortError::Failed(_)), "{error:?}");
        assert!(error.to_string().contains("not a hex digest"), "{error}");
        let error = codes.verify(&key, &hash("123456"), now).await.unwrap_err();
        assert!(matches!(error, PortError::Failed(_)), "{error:?}");
        assert!(keys_with_ttls(redis.key_prefix()).await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whole_sign_in_over_redis_keeps_addresses_out_of_keys() {
        let redis = TestRedis::new().await;
        let pool = redis.pool();
        let mailer = Arc::new(RecordingMailer::new());
        let clock = Arc::new(ManualClock::starting_now());
        let sessions = Arc::new(MemorySessionRepository::new());
        let devices = Arc::new(otp_memory::MemoryDeviceRepository::new());
        let ports = SignInPorts {
            users: Arc::new(MemoryUserRepository::with_stores(sessions.clone(), devices.clone())),
            sessions,
            devices,
            codes: Arc::new(RedisCodeStore::new(pool.clone())),
            rate_limiter: Arc::new(RedisRateLimiter::new(pool)),
            mailer: mailer.clone(),
            clock: clock.clone(),
            revocations: Revocations::new(
                Arc::new(otp_memory::MemoryRevocationChannel::new()),
                Arc::new(TokenCache::disabled()),
            ),
            events: Arc::new(otp_core::events::EventHub::new()),
        };
        let secrets = Secrets {
            keyed_hasher: KeyedHasher::random(),
            password_hasher: PasswordHasher::new(Argon2Settings::OWASP, 1).unwrap(),
            keyring: Keyring::new(SigningKey::generate().unwrap(), vec![]),
            service_credentials: otp_core::crypto::ServiceCredentials::none(),
        };
        let service = SignInService::new(ports, &secrets, &AuthPolicy::default()).unwrap();
        let email = EmailAddress::parse("Ann.Lee@Example.com").unwrap();
        let client = ClientContext::new(Some("192.0.2.7".parse().unwrap()), Some("tests"));

        service.send_code(&email, &client).await.unwrap();
        let error = service.send_code(&email, &client).await.unwrap_err();
        assert!(matches!(error, SignInError::Cooldown { .. }), "{error:?}");
        // The cooldown follows the domain's clock, not Redis's.
        clock.advance(Duration::from_secs(61));
        service.send_code(&email, &client).await.unwrap();
        let digits = mailer.last_code_for(&email).unwrap();
        let code = OtpCode::parse(&digits, service.code_length()).unwrap();
        let signed_in = service.verify_code(&email, &code, &client).await.unwrap();
        assert_eq!(signed_in.user.email, email);

        let keys = keys_with_ttls(redis.key_prefix()).await;
        assert!(keys.len() >= 4, "codes, cooldowns and rate limits were written: {keys:?}");
        for (key, ttl) in &keys {
            let lower = key.to_lowercase();
            assert!(!key.contains('@') && !lower.contains("ann") && !lower.contains("example"), "{key}");
            assert!(*ttl > 0, "{key} has PTTL {ttl}");
        }
    }
}
