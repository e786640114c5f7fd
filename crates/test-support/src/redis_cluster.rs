//! A look inside a Redis Cluster, node by node, for tests: which node is a master,
//! which slots it serves, where a key lives; and a cluster of a test's own
//! ([`PrivateCluster`]) for tests that kill or pause its nodes.
// A helper that cannot reach the cluster fails the test that asked.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use deadpool_redis::redis::{self, aio::MultiplexedConnection};

/// One node as `CLUSTER NODES` describes it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub port: u16,
    pub is_master: bool,
    pub master_id: Option<String>,
    pub slots: Vec<(u16, u16)>,
}

impl Node {
    pub fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|(first, last)| (*first..=*last).contains(&slot))
    }
}

/// The ports of a comma-separated node list (`127.0.0.1:7000,...`).
pub fn ports(nodes: &str) -> Vec<u16> {
    nodes
        .split(',')
        .filter_map(|node| node.trim().rsplit(':').next())
        .map(|port| port.parse().expect("a node list of host:port"))
        .collect()
}

/// A plain connection to the node on `port` (no cluster routing).
pub async fn node_connection(port: u16) -> MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|error| panic!("node 127.0.0.1:{port} does not answer: {error}"))
}

/// The cluster as the node on `port` sees it.
pub async fn topology(port: u16) -> Vec<Node> {
    let text: String =
        redis::cmd("CLUSTER").arg("NODES").query_async(&mut node_connection(port).await).await.unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let address = fields[1].split('@').next().unwrap();
            let flags = fields[2];
            let slots = fields[8..]
                .iter()
                .filter(|range| !range.starts_with('['))
                .map(|range| match range.split_once('-') {
                    Some((first, last)) => (first.parse().unwrap(), last.parse().unwrap()),
                    None => (range.parse().unwrap(), range.parse().unwrap()),
                })
                .collect();
            Node {
                id: fields[0].to_owned(),
                port: address.rsplit(':').next().unwrap().parse().unwrap(),
                is_master: flags.contains("master") && !flags.contains("fail"),
                master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            }
        })
        .collect()
}

/// The slot of `key`.
pub async fn slot_of(port: u16, key: &str) -> u16 {
    redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query_async(&mut node_connection(port).await).await.unwrap()
}

/// The live master serving `slot`, as the node on `port` sees the cluster.
pub async fn master_of(port: u16, slot: u16) -> Node {
    topology(port)
        .await
        .into_iter()
        .find(|node| node.is_master && node.serves(slot))
        .unwrap_or_else(|| panic!("no master serves slot {slot}"))
}

/// The replicas of the master `master`.
pub async fn replicas_of(port: u16, master: &Node) -> Vec<Node> {
    topology(port).await.into_iter().filter(|node| node.master_id.as_deref() == Some(&master.id)).collect()
}

/// The keys matching `pattern` on the node on `port` alone (a replica or a node importing
/// a slot too), with their TTLs (ms).
pub async fn keys_on(port: u16, pattern: &str) -> Vec<(String, i64)> {
    let mut connection = node_connection(port).await;
    let _: () = redis::cmd("READONLY").query_async(&mut connection).await.unwrap();
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
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
        // ASKING: a key of a slot being imported answers only after it.
        let (ttl,): (i64,) = redis::pipe()
            .cmd("ASKING")
            .ignore()
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        with_ttls.push((key, ttl));
    }
    with_ttls.sort();
    with_ttls
}

/// A cluster of this test's own, started by `scripts/redis-cluster.sh` in a temporary
/// folder and stopped when dropped, for tests that kill or pause its nodes.
#[derive(Debug)]
pub struct PrivateCluster {
    pub dir: PathBuf,
    pub nodes: String,
}

impl PrivateCluster {
    /// Starts one whose masters are failed over after `node_timeout` of silence.
    pub fn start(node_timeout: Duration) -> Self {
        let dir = std::env::temp_dir().join(format!("otp-redis-cluster-{}", uuid::Uuid::new_v4().simple()));
        let output = Command::new(script())
            .arg("start")
            .arg(&dir)
            .env("OTP_REDIS_CLUSTER_NODE_TIMEOUT_MS", node_timeout.as_millis().to_string())
            .output()
            .expect("running scripts/redis-cluster.sh");
        let cluster = Self { dir, nodes: String::from_utf8_lossy(&output.stdout).trim().to_owned() };
        assert!(
            output.status.success() && !cluster.nodes.is_empty(),
            "scripts/redis-cluster.sh start failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        cluster
    }

    /// The process behind the node on `port`.
    pub fn pid(&self, port: u16) -> u32 {
        let text = std::fs::read_to_string(self.dir.join(port.to_string()).join("redis.pid")).unwrap();
        text.trim().parse().unwrap()
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`) to the node on `port`.
    pub fn signal(&self, port: u16, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.pid(port).to_string()).status();
        assert!(status.is_ok_and(|status| status.success()), "kill -{signal} of node {port} failed");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/redis-cluster.sh")
}
