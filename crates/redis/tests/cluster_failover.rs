//! What the adapters do while a Redis Cluster changes: a master fails over, a replica
//! stalls, a slot moves to another master. Each test starts a cluster of its own
//! (scripts/redis-cluster.sh, a 1 s `cluster-node-timeout`) and kills, pauses or
//! reshards it, so the shared test cluster is never disturbed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cluster_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster_support::{
    PrivateCluster, code_key, code_name, config_for, hash, keys_on, live_pool, master_of, new_code,
    node_connection, ports, replicas_of, slot_of, topology,
};
use deadpool_redis::redis::{self, cluster_routing::Slot};
use otp_core::PortError;
use otp_core::ports::{CodeKey, CodeStore, Probe, RateDecision, RateLimit, RateLimiter, VerifyOutcome};
use otp_core::testing::instant;
use otp_redis::{RedisCodeStore, RedisConfig, RedisProbe, RedisRateLimiter};

const NODE_TIMEOUT: Duration = Duration::from_secs(1);

/// Short time-outs, so an operation on a dead node gives up quickly.
fn quick(config: RedisConfig) -> RedisConfig {
    RedisConfig {
        pool_size: 4,
        connect_timeout: Duration::from_millis(300),
        wait_timeout: Duration::from_millis(300),
        response_timeout: Duration::from_millis(300),
        ..config
    }
}

/// `count` code keys whose codes live on the master of `first`'s slot, and that master.
async fn keys_on_one_master(seed: u16, config: &RedisConfig, count: usize) -> (Vec<CodeKey>, u16) {
    let first = code_key();
    let master = master_of(seed, slot_of(seed, &code_name(config, &first)).await).await;
    let mut keys = vec![first];
    while keys.len() < count {
        let key = code_key();
        if master.serves(slot_of(seed, &code_name(config, &key)).await) {
            keys.push(key);
        }
    }
    (keys, master.port)
}

/// Waits until the replica on `port` holds `count` keys under `prefix`.
async fn until_replicated(port: u16, prefix: &str, count: usize) {
    let started = Instant::now();
    while keys_on(port, &format!("{prefix}code:*")).await.len() < count {
        assert!(started.elapsed() < Duration::from_secs(5), "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_is_unavailable_for_a_bounded_time_then_the_same_pools_recover_with_every_code_and_attempt()
 {
    let cluster = PrivateCluster::start(NODE_TIMEOUT);
    let seed = ports(&cluster.nodes)[0];
    let config = quick(config_for(&cluster.nodes));
    // Two instances of the service: two pools on one cluster and prefix.
    let stores: [Arc<dyn CodeStore>; 2] = [
        Arc::new(RedisCodeStore::new(live_pool(&config).await)),
        Arc::new(RedisCodeStore::new(live_pool(&config).await)),
    ];
    let probe = RedisProbe::new(live_pool(&config).await);
    let now = instant();

    let (keys, victim) = keys_on_one_master(seed, &config, 12).await;
    let (right_only, guessed) = keys.split_at(6);
    for key in &keys {
        stores[0].issue(key, &new_code(now), now).await.unwrap();
    }
    for key in guessed {
        for left in [4, 3, 2] {
            let outcome = stores[1].verify(key, &hash("000000"), now).await.unwrap();
            assert_eq!(outcome, VerifyOutcome::Rejected { attempts_remaining: left });
        }
    }
    let replica =
        replicas_of(seed, &master_of(seed, slot_of(seed, &code_name(&config, &keys[0])).await).await)
            .await
            .pop()
            .unwrap();
    until_replicated(replica.port, &config.key_prefix, keys.len()).await;

    cluster.signal(victim, "KILL");
    let killed = Instant::now();
    let bound = config.max_operation_time() + Duration::from_secs(1);
    let (mut accepted, mut unavailable, mut last_unavailable) = (vec![0; right_only.len()], 0, None);
    while accepted.contains(&0) {
        assert!(killed.elapsed() < Duration::from_secs(30), "no recovery 30 s after the kill");
        let round: Vec<_> = right_only
            .iter()
            .enumerate()
            .map(|(index, key)| {
                let (store, key) = (Arc::clone(&stores[index % 2]), key.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    let outcome = store.verify(&key, &hash("123456"), now).await;
                    (index, outcome, started.elapsed())
                })
            })
            .collect();
        for task in round {
            let (index, outcome, took) = task.await.unwrap();
            assert!(took < bound, "a verification took {took:?} during the failover");
            match outcome {
                Ok(VerifyOutcome::Accepted) => accepted[index] += 1,
                Ok(VerifyOutcome::NotFound) => {
                    assert_eq!(accepted[index], 1, "code {index} lost: not found before it was accepted")
                }
                Err(PortError::Unavailable(_)) => {
                    unavailable += 1;
                    last_unavailable = Some(killed.elapsed());
                }
                other => panic!("code {index}: unexpected answer during the failover: {other:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = killed.elapsed();
    eprintln!(
        "failover: {unavailable} answers Unavailable, the last {last_unavailable:?} after the kill; \
         every code accepted {recovered:?} after it"
    );
    assert!(unavailable > 0, "the killed master's codes never failed: was it the right node?");
    assert!(recovered < Duration::from_secs(15), "recovery took {recovered:?}");

    // The same pools serve every slot again; each code was accepted once, and the wrong
    // guesses made before the kill still count.
    probe.check().await.unwrap();
    for key in right_only {
        assert_eq!(stores[0].verify(key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    }
    for key in guessed {
        let outcome = stores[0].verify(key, &hash("000000"), now).await.unwrap();
        assert_eq!(
            outcome,
            VerifyOutcome::Rejected { attempts_remaining: 1 },
            "attempts lost in the failover"
        );
        assert_eq!(stores[1].verify(key, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    }
    assert_eq!(accepted, vec![1; right_only.len()]);
    let fresh = code_key();
    stores[1].issue(&fresh, &new_code(now), now).await.unwrap();
    assert_eq!(stores[0].verify(&fresh, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_no_replica_acknowledges_is_not_given() {
    let cluster = PrivateCluster::start(NODE_TIMEOUT);
    let seed = ports(&cluster.nodes)[0];
    let config = quick(config_for(&cluster.nodes));
    let codes = RedisCodeStore::new(live_pool(&config).await);
    let now = instant();
    let key = code_key();
    codes.issue(&key, &new_code(now), now).await.unwrap();
    let master = master_of(seed, slot_of(seed, &code_name(&config, &key)).await).await;
    let replica = replicas_of(seed, &master).await.pop().unwrap();
    until_replicated(replica.port, &config.key_prefix, 1).await;

    cluster.signal(replica.port, "STOP");
    let bound = config.max_operation_time() + Duration::from_secs(1);
    let started = Instant::now();
    let wrong = codes.verify(&key, &hash("000000"), now).await;
    let right = codes.verify(&key, &hash("123456"), now).await;
    cluster.signal(replica.port, "CONT");
    assert!(started.elapsed() < bound * 2, "took {:?}", started.elapsed());
    for outcome in [&wrong, &right] {
        match outcome {
            Err(error @ PortError::Unavailable(_)) => {
                assert!(error.to_string().contains("replica"), "{error}");
            }
            other => panic!("a decision was given without a replica: {other:?}"),
        }
    }

    // The unacknowledged acceptance still happened on the master: the code is used up,
    // never accepted later.
    assert_eq!(codes.verify(&key, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    let fresh = code_key();
    codes.issue(&fresh, &new_code(now), now).await.unwrap();
    assert_eq!(codes.verify(&fresh, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
}

/// A fresh hex string whose Redis key (`name` of it) is in `slot`.
fn key_in_slot(slot: u16, name: impl Fn(&str) -> String) -> String {
    let slot = Slot::new(slot).unwrap();
    loop {
        let candidate = uuid::Uuid::new_v4().simple().to_string();
        if Slot::for_key(name(&candidate)) == slot {
            return candidate;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_moving_to_another_master_is_followed_through_ask_and_moved_redirections() {
    let cluster = PrivateCluster::start(NODE_TIMEOUT);
    let seed = ports(&cluster.nodes)[0];
    let config = quick(config_for(&cluster.nodes));
    let codes = RedisCodeStore::new(live_pool(&config).await);
    let now = instant();
    let staying = code_key();
    codes.issue(&staying, &new_code(now), now).await.unwrap();
    let outcome = codes.verify(&staying, &hash("000000"), now).await.unwrap();
    assert_eq!(outcome, VerifyOutcome::Rejected { attempts_remaining: 4 });

    let name = code_name(&config, &staying);
    let slot = slot_of(seed, &name).await;
    let source = master_of(seed, slot).await;
    let masters: Vec<_> = topology(seed).await.into_iter().filter(|node| node.is_master).collect();
    let target = masters.iter().find(|node| node.id != source.id).unwrap().clone();
    let setslot = |port: u16, args: Vec<String>| async move {
        let mut command = redis::cmd("CLUSTER");
        command.arg("SETSLOT").arg(slot).arg(args);
        let _: () = command.query_async(&mut node_connection(port).await).await.unwrap();
    };
    setslot(target.port, vec!["IMPORTING".into(), source.id.clone()]).await;
    setslot(source.port, vec!["MIGRATING".into(), target.id.clone()]).await;

    // While the slot migrates, a key the source lacks is asked of the target (ASK). A
    // script over two such keys is refused there (TRYAGAIN) until the move ends: that
    // one address cannot get a code for that moment, and hears so (Unavailable).
    let limiter = RedisRateLimiter::new(live_pool(&config).await);
    let rate_key = key_in_slot(slot, |candidate| format!("{}rate:{candidate}", config.key_prefix));
    let limit = RateLimit { max: 1, window: Duration::from_secs(60) };
    assert_eq!(limiter.hit(&rate_key, limit, now).await.unwrap(), RateDecision::Allowed);
    let rate_name = format!("{}rate:{rate_key}", config.key_prefix);
    assert_eq!(keys_on(target.port, &rate_name).await.len(), 1, "counted on the target");
    assert!(matches!(limiter.hit(&rate_key, limit, now).await.unwrap(), RateDecision::Limited { .. }));
    let arriving = key_in_slot(slot, |candidate| {
        code_name(&config, &CodeKey { subject: candidate.to_owned(), ..staying.clone() })
    });
    let arriving = CodeKey { subject: arriving, ..staying.clone() };
    assert_eq!(codes.verify(&arriving, &hash("123456"), now).await.unwrap(), VerifyOutcome::NotFound);
    let error = codes.issue(&arriving, &new_code(now), now).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable(_)), "{error:?}");

    // The rest of the slot moves; the slot is the target's from now on (MOVED).
    let keys: Vec<String> = redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(slot)
        .arg(100)
        .query_async(&mut node_connection(source.port).await)
        .await
        .unwrap();
    assert!(keys.contains(&name), "{keys:?}");
    let _: () = redis::cmd("MIGRATE")
        .arg("127.0.0.1")
        .arg(target.port)
        .arg("")
        .arg(0)
        .arg(5000)
        .arg("KEYS")
        .arg(&keys)
        .query_async(&mut node_connection(source.port).await)
        .await
        .unwrap();
    for master in &masters {
        setslot(master.port, vec!["NODE".into(), target.id.clone()]).await;
    }

    // The same store, with the slot map it had: redirected, with the attempt spent and
    // the TTL kept.
    let outcome = codes.verify(&staying, &hash("000000"), now).await.unwrap();
    assert_eq!(outcome, VerifyOutcome::Rejected { attempts_remaining: 3 });
    let moved = keys_on(target.port, &name).await;
    assert!(matches!(moved.as_slice(), [(_, ttl)] if *ttl > 0), "{moved:?}");
    assert_eq!(codes.verify(&staying, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    codes.issue(&arriving, &new_code(now), now).await.unwrap();
    assert_eq!(codes.verify(&arriving, &hash("123456"), now).await.unwrap(), VerifyOutcome::Accepted);
    assert!(matches!(limiter.hit(&rate_key, limit, now).await.unwrap(), RateDecision::Limited { .. }));
}
