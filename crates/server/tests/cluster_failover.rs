//! Two `otp-server` instances on a Redis Cluster of this test's own (three masters, three
//! replicas, a 1 s `cluster-node-timeout`), under steady load, while the master holding
//! a code is killed: requests answer 503 `unavailable` at worst (never 500), the same
//! servers recover without a restart, and of 100 right-code verifications spread over
//! the failover exactly one signs in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "api/helpers.rs"]
mod helpers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use helpers::{TestDatabase, email, fresh_key_prefix, start_instance, unique_email, with_shared_secrets};
use otp_memory::{ManualClock, RecordingMailer};
use otp_server::Settings;
use otp_test_support::redis_cluster::{
    PrivateCluster, keys_on, master_of, ports, replicas_of, slot_of, topology,
};
use reqwest::StatusCode;
use serde_json::json;

/// The adapters the helpers set up (this binary sets its own).
pub const BACKEND: helpers::Backend = helpers::Backend::Real;

const NODE_TIMEOUT: Duration = Duration::from_secs(1);

/// The node holding the one code key under `prefix`, and one of its replicas, once the
/// replica has it too.
async fn code_holder(seed: u16, prefix: &str) -> (u16, u16) {
    let pattern = format!("{prefix}code:*");
    let started = Instant::now();
    loop {
        for node in topology(seed).await.into_iter().filter(|node| node.is_master) {
            if let Some((key, _)) = keys_on(node.port, &pattern).await.into_iter().next() {
                let master = master_of(seed, slot_of(seed, &key).await).await;
                let replica = replicas_of(seed, &master).await.pop().expect("every master has a replica");
                if !keys_on(replica.port, &pattern).await.is_empty() {
                    return (master.port, replica.port);
                }
            }
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the code never reached a replica");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_master_killed_under_load_costs_503s_at_worst_and_each_code_signs_in_once() {
    let cluster = PrivateCluster::start(NODE_TIMEOUT);
    let seed = ports(&cluster.nodes)[0];
    let database = TestDatabase::migrated().await;
    let mut settings =
        Settings { port: 0, metrics_addr: String::new(), workers: Some(2), ..Settings::default() };
    settings.database_url = Some(database.url().to_owned().into());
    settings.redis_cluster_nodes = Some(cluster.nodes.clone().into());
    settings.redis_key_prefix = fresh_key_prefix();
    settings.redis_timeout_ms = 300;
    settings.rate_limit_per_ip = 1_000_000;
    settings.rate_limit_per_email = 1_000_000;
    with_shared_secrets(&mut settings);
    let (mailer, clock) = (Arc::new(RecordingMailer::new()), Arc::new(ManualClock::starting_now()));
    let mut instances = Vec::new();
    for _ in 0..2 {
        let (address, _, handle) = start_instance(&settings, mailer.clone(), clock.clone()).await;
        instances.push((address, handle));
    }
    let urls: Arc<Vec<String>> = Arc::new(instances.iter().map(|(address, _)| address.clone()).collect());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    let owner = unique_email();
    let sent =
        client.post(format!("{}/auth/send-otp", urls[0])).json(&json!({ "email": owner })).send().await;
    assert_eq!(sent.unwrap().status(), StatusCode::ACCEPTED);
    let code = mailer.last_code_for(&email(&owner)).unwrap();
    let (victim, _replica) = code_holder(seed, &settings.redis_key_prefix).await;

    // Steady load on both instances for the whole test: codes for fresh addresses.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (client, urls, stop) = (client.clone(), Arc::clone(&urls), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let url = format!("{}/auth/send-otp", urls[n % urls.len()]);
                let response = client.post(url).json(&json!({ "email": unique_email() })).send().await;
                statuses.push(response.map_or(0, |response| response.status().as_u16()));
                n += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    cluster.signal(victim, "KILL");
    let killed = Instant::now();
    // 100 right-code verifications, one every 80 ms, alternating instances: they span
    // the failover (a second or two) and what follows it.
    let verifications: Vec<_> = (0..100u64)
        .map(|n| {
            let (client, urls) = (client.clone(), Arc::clone(&urls));
            let body = json!({ "email": owner, "code": code });
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(80 * n)).await;
                let url = format!("{}/auth/verify-otp", urls[n as usize % urls.len()]);
                let response = client.post(url).json(&body).send().await.unwrap();
                (response.status(), killed.elapsed())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in verifications {
        answers.push(task.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let load = load.await.unwrap();

    let signed_in: Vec<_> = answers.iter().filter(|(status, _)| *status == StatusCode::OK).collect();
    assert_eq!(signed_in.len(), 1, "one right code signs in once across the failover: {answers:?}");
    let unavailable: Vec<_> =
        answers.iter().filter(|(status, _)| *status == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!unavailable.is_empty(), "no verification met the failover: was the right node killed?");
    for (status, _) in &answers {
        assert!(
            [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::SERVICE_UNAVAILABLE].contains(status),
            "a verification answered {status}: {answers:?}"
        );
    }
    // The code survived the failover (it signed in once, at some point of it); other
    // keys a verification touches (rate limits, the guess cap) may sit on the killed
    // master too, so a 503 can still follow the sign-in until the failover is over.
    let last_unavailable = unavailable.iter().map(|(_, at)| *at).max().unwrap();
    assert!(last_unavailable < Duration::from_secs(10), "unavailable for {last_unavailable:?}");
    assert!(
        load.iter().all(|status| *status == 202 || *status == 503),
        "the steady load got other answers: {load:?}"
    );
    eprintln!(
        "failover: {} verifications and {} of {} sends answered 503, the last {last_unavailable:?} after \
         the kill; signed in at {:?}",
        unavailable.len(),
        load.iter().filter(|status| **status == 503).count(),
        load.len(),
        signed_in[0].1
    );

    // The same servers serve every slot again.
    for url in urls.iter() {
        let address = unique_email();
        let sent =
            client.post(format!("{url}/auth/send-otp")).json(&json!({ "email": address })).send().await;
        assert_eq!(sent.unwrap().status(), StatusCode::ACCEPTED);
        let code = mailer.last_code_for(&email(&address)).unwrap();
        let body = json!({ "email": address, "code": code });
        let verified = client.post(format!("{url}/auth/verify-otp")).json(&body).send().await.unwrap();
        assert_eq!(verified.status(), StatusCode::OK);
    }
    for (_, handle) in instances {
        handle.stop(false).await;
    }
}
