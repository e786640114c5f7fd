//! The port contract suites against a real Redis Cluster (3 masters, 3 replicas), and
//! what only a cluster can show: multi-key scripts whose keys share a slot, keys spread
//! over every master, each with a TTL, and decisions a replica holds before they are
//! answered.
//!
//! Needs the cluster in `OTP_TEST_REDIS_CLUSTER_NODES`, which the nextest setup script
//! `redis-cluster` (scripts/redis-cluster.sh) starts and exports; without it every test
//! fails and says how to start one. Each test works under its own key prefix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster_support;

use std::sync::Arc;

use cluster_support::{HOW_TO_START, NODES_VARIABLE, config_for, live_pool};
use otp_core::ports::{CodeStore, OAuthStateStore, RateLimiter};
use otp_redis::{RedisCodeStore, RedisConfig, RedisOAuthStateStore, RedisRateLimiter};

/// The test cluster's nodes.
fn nodes() -> String {
    std::env::var(NODES_VARIABLE)
        .ok()
        .filter(|nodes| !nodes.trim().is_empty())
        .unwrap_or_else(|| panic!("{NODES_VARIABLE} is not set: {HOW_TO_START}"))
}

/// The test cluster under a fresh key prefix.
fn test_config() -> RedisConfig {
    config_for(&nodes())
}

mod codes {
    use super::*;
    otp_core::code_store_contract!(async {
        Arc::new(RedisCodeStore::new(live_pool(&test_config()).await)) as Arc<dyn CodeStore>
    });
}

mod rate_limits {
    use super::*;
    otp_core::rate_limiter_contract!(async {
        Arc::new(RedisRateLimiter::new(live_pool(&test_config()).await)) as Arc<dyn RateLimiter>
    });
}

/// On a cluster the limits' keys and the code's are in different slots: the code store
/// answers `None` and the service counts with the limiter first.
mod codes_within_limits {
    use otp_core::testing::codes_within::CodesBesideLimits;

    use super::*;
    otp_core::code_store_within_limits_contract!(async {
        let limiter = RedisRateLimiter::new(live_pool(&test_config()).await);
        let codes = Arc::new(RedisCodeStore::sharing(&limiter));
        CodesBesideLimits { codes, limiter: Arc::new(limiter) }
    });
}

mod oauth_states {
    use super::*;
    otp_core::oauth_state_store_contract!(async {
        Arc::new(RedisOAuthStateStore::new(live_pool(&test_config()).await)) as Arc<dyn OAuthStateStore>
    });
}

mod revocations {
    use otp_core::ports::RevocationChannel;
    use otp_redis::RedisRevocationChannel;

    use super::*;
    otp_core::revocation_channel_contract!(async {
        let config = test_config();
        let channel = RedisRevocationChannel::new(live_pool(&config).await, &config).unwrap();
        Arc::new(channel) as Arc<dyn RevocationChannel>
    });
}

mod on_the_cluster {
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use deadpool_redis::redis::{self, ErrorKind, ServerErrorKind};
    use otp_core::ports::{CodeKey, IssueOutcome, Probe, RateDecision, RateLimit, VerifyOutcome};
    use otp_core::testing::instant;
    use otp_redis::RedisProbe;

    use super::cluster_support::{
        code_key, code_name, hash, keys_on, master_of, new_code, node_connection, ports, replicas_of,
        slot_of, topology,
    };
    use super::*;

    /// The masters, by port.
    async fn masters() -> Vec<u16> {
        let seed = ports(&nodes())[0];
        topology(seed).await.into_iter().filter(|node| node.is_master).map(|node| node.port).collect()
    }

    /// Every key under `prefix`, by the master it lives on.
    async fn keys_by_master(prefix: &str) -> BTreeMap<u16, Vec<(String, i64)>> {
        let mut by_master = BTreeMap::new();
        for port in masters().await {
            by_master.insert(port, keys_on(port, &format!("{prefix}*")).await);
        }
        by_master
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_sharing_its_limiter_declines_to_count_limits_on_a_cluster() {
        let limiter = RedisRateLimiter::new(live_pool(&test_config()).await);
        let codes = RedisCodeStore::sharing(&limiter);
        let (key, now) = (code_key(), instant());
        let limit = RateLimit { max: 1, window: Duration::from_secs(60) };
        let hits = [("cluster-sharing", limit)];
        // The limit's key and the code's are in different slots: no one script.
        assert_eq!(codes.issue_within(&hits, &key, &new_code(now), now).await.unwrap(), None);
        assert_eq!(codes.verify_within(&hits, &key, &hash("123456"), now).await.unwrap(), None);
        assert_eq!(limiter.hit("cluster-sharing", limit, now).await.unwrap(), RateDecision::Allowed);
        assert_eq!(codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn codes_of_many_addresses_spread_over_every_master_with_each_pair_in_one_slot() {
        let config = test_config();
        let codes = RedisCodeStore::new(live_pool(&config).await);
        let limiter = RedisRateLimiter::new(live_pool(&config).await);
        let now = instant();
        let keys: Vec<CodeKey> = (0..60).map(|_| code_key()).collect();
        for key in &keys {
            // Two keys in one script: a CROSSSLOT error here would fail the issue.
            assert_eq!(codes.issue(key, &new_code(now), now).await.unwrap(), IssueOutcome::Issued);
            let limit = RateLimit { max: 3, window: Duration::from_secs(60) };
            let rate_key = format!("email:send_code:{}", key.subject);
            assert_eq!(limiter.hit(&rate_key, limit, now).await.unwrap(), RateDecision::Allowed);
        }
        for key in &keys[..30] {
            assert_eq!(codes.verify(key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
        }
        for key in &keys[30..] {
            let outcome = codes.verify(key, &hash("654321"), now).await.unwrap();
            assert_eq!(outcome, VerifyOutcome::Rejected { attempts_remaining: 4 });
        }

        let by_master = keys_by_master(&config.key_prefix).await;
        assert_eq!(by_master.len(), 3, "three masters: {by_master:?}");
        for (port, keys) in &by_master {
            assert!(!keys.is_empty(), "no key on the master {port}: the keys do not spread");
            for (key, ttl) in keys {
                assert!(*ttl > 0, "{key} on {port} has PTTL {ttl}");
            }
        }
        // Each cooldown lives on the node of its code (the codes verified wrong still
        // exist), and every address's keys were written.
        let node_of: BTreeMap<&str, u16> = by_master
            .iter()
            .flat_map(|(port, keys)| keys.iter().map(|(key, _)| (key.as_str(), *port)))
            .collect();
        for key in &keys[30..] {
            let code = code_name(&config, key);
            let cooldown = format!("{}cooldown:sign_in:{{{}}}", config.key_prefix, key.subject);
            assert_eq!(node_of.get(code.as_str()), node_of.get(cooldown.as_str()), "{code}");
            assert!(node_of.contains_key(code.as_str()), "{code} is missing");
        }
        let all: usize = by_master.values().map(Vec::len).sum();
        assert_eq!(all, 30 + 60 + 60, "30 codes left, 60 cooldowns, 60 rate-limit sets: {by_master:?}");
    }

    /// The control for the test above: this cluster refuses a script whose keys are in
    /// two slots, so the adapters' scripts pass because their keys share one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_cluster_refuses_a_script_over_two_slots() {
        let subject = uuid::Uuid::new_v4().simple().to_string();
        let (code, cooldown) = (format!("otp-test:code:{subject}"), format!("otp-test:cooldown:{subject}"));
        let mut connection = node_connection(ports(&nodes())[0]).await;
        let slots: BTreeSet<u16> = [
            redis::cmd("CLUSTER").arg("KEYSLOT").arg(&code).query_async(&mut connection).await.unwrap(),
            redis::cmd("CLUSTER").arg("KEYSLOT").arg(&cooldown).query_async(&mut connection).await.unwrap(),
        ]
        .into();
        assert_eq!(slots.len(), 2, "the untagged pair happens to share a slot; pick other names");

        let seeds: Vec<String> =
            ports(&nodes()).iter().map(|port| format!("redis://127.0.0.1:{port}")).collect();
        let mut cluster =
            redis::cluster::ClusterClient::new(seeds).unwrap().get_async_connection().await.unwrap();
        let error = redis::cmd("EVAL")
            .arg("return redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])")
            .arg(2)
            .arg(&code)
            .arg(&cooldown)
            .query_async::<Option<String>>(&mut cluster)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Server(ServerErrorKind::CrossSlot), "{error:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_answers_when_every_master_does() {
        let probe = RedisProbe::new(live_pool(&test_config()).await);
        assert_eq!(probe.name(), "redis");
        for _ in 0..3 {
            probe.check().await.unwrap();
        }
    }

    /// An accepted code's deletion is on the replica by the time `verify` answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_accepted_code_is_gone_from_the_replica_when_the_answer_comes() {
        let config = test_config();
        let codes = RedisCodeStore::new(live_pool(&config).await);
        let seed = ports(&nodes())[0];
        for _ in 0..20 {
            let (key, now) = (code_key(), instant());
            codes.issue(&key, &new_code(now), now).await.unwrap();
            let name = code_name(&config, &key);
            let master = master_of(seed, slot_of(seed, &name).await).await;
            let replicas = replicas_of(seed, &master).await;
            assert_eq!(replicas.len(), 1, "each master has one replica");
            assert_eq!(codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
            let on_replica = keys_on(replicas[0].port, &name).await;
            assert!(on_replica.is_empty(), "the replica still has {on_replica:?} after the answer");
        }
    }
}
