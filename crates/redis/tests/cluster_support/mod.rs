//! The codes of the cluster tests, where their keys live, and pools on a test cluster;
//! the node-by-node look and the private clusters are otp-test-support's.
#![allow(dead_code, unused_imports)]

use std::time::Duration;

use otp_redis::{RedisConfig, RedisPool, RedisProbe, connect};
pub use otp_test_support::redis_cluster::{
    Node, PrivateCluster, keys_on, master_of, node_connection, ports, replicas_of, slot_of, topology,
};
use secrecy::SecretString;

use otp_core::crypto::{CodeHash, KeyedHasher};
use otp_core::domain::CodePurpose;
use otp_core::ports::{CodeKey, NewCode, Probe};
use otp_core::{EmailAddress, OtpCode};
use time::OffsetDateTime;

/// The variable the nextest setup script `redis-cluster` exports.
pub const NODES_VARIABLE: &str = otp_test_support::CLUSTER_NODES_VARIABLE;

/// How to get a cluster when none is given.
pub const HOW_TO_START: &str = "run the tests with `cargo nextest run` (its setup script \
    scripts/redis-cluster.sh starts a cluster), or start one with `scripts/redis-cluster.sh start` \
    and export OTP_TEST_REDIS_CLUSTER_NODES=<the nodes it prints>";

fn hasher() -> KeyedHasher {
    KeyedHasher::new(&[9; 32]).unwrap()
}

/// The code key of a fresh address.
pub fn code_key() -> CodeKey {
    let email = EmailAddress::parse(&format!("u-{}@example.com", uuid::Uuid::new_v4().simple())).unwrap();
    CodeKey { purpose: CodePurpose::SignIn, subject: hasher().email_digest(&email) }
}

/// The keyed hash of the code `digits`.
pub fn hash(digits: &str) -> CodeHash {
    let email = EmailAddress::parse("cluster@example.com").unwrap();
    hasher().code_hash(CodePurpose::SignIn, &email, &OtpCode::parse(digits, 6).unwrap())
}

/// The code `123456`, valid for ten minutes from `now`, five attempts, a minute's cooldown.
pub fn new_code(now: OffsetDateTime) -> NewCode {
    NewCode {
        hash: hash("123456"),
        expires_at: now + Duration::from_secs(600),
        max_attempts: 5,
        cooldown: Duration::from_secs(60),
    }
}

/// The name of the hash that holds the code of `key`.
pub fn code_name(config: &RedisConfig, key: &CodeKey) -> String {
    format!("{}code:sign_in:{{{}}}", config.key_prefix, key.subject)
}

/// A configuration for the cluster of `nodes` under a fresh key prefix.
pub fn config_for(nodes: &str) -> RedisConfig {
    RedisConfig {
        key_prefix: format!("otp-test:{}:", uuid::Uuid::new_v4().simple()),
        ..RedisConfig::cluster_from_list(&SecretString::from(nodes.to_owned())).unwrap()
    }
}

/// A pool for `config`, after checking that the cluster answers.
pub async fn live_pool(config: &RedisConfig) -> RedisPool {
    let pool = connect(config).expect("the test configuration is valid");
    if let Err(error) = RedisProbe::new(pool.clone()).check().await {
        panic!("the Redis Cluster does not answer ({error}); {HOW_TO_START}");
    }
    pool
}
