//! The webhook worker on the in-memory webhook outbox, with a recording sender whose
//! endpoints can be taken down, and a manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::crypto::WebhookSigner;
use otp_core::domain::{AuthEvent, AuthEventKind, AuthMethod, SessionId, UserId};
use otp_core::events::{EventHub, WebhookQueue, WebhookRound, WebhookWorker};
use otp_core::mail::{DeliveryPolicy, OutboxSignal};
use otp_core::ports::{Clock, EventPublisher, WebhookRequest, WebhookSender};
use otp_memory::{ManualClock, MemoryWebhookOutbox};

const UP: &str = "http://127.0.0.1:9/up";
const DOWN: &str = "http://127.0.0.1:9/down";

#[derive(Debug, Default)]
struct Sender {
    sent: Mutex<Vec<WebhookRequest>>,
    down: Mutex<HashSet<String>>,
    tries: Mutex<u32>,
}

#[async_trait]
impl WebhookSender for Sender {
    async fn send(&self, request: &WebhookRequest) -> Result<(), PortError> {
        *self.tries.lock().unwrap() += 1;
        if self.down.lock().unwrap().contains(&request.endpoint) {
            return Err(PortError::unavailable("connection refused"));
        }
        self.sent.lock().unwrap().push(request.clone());
        Ok(())
    }
}

struct Rig {
    hub: EventHub,
    worker: WebhookWorker,
    sender: Arc<Sender>,
    clock: Arc<ManualClock>,
    signer: WebhookSigner,
}

fn rig(max_attempts: u32) -> Rig {
    let outbox = Arc::new(MemoryWebhookOutbox::new());
    let clock = Arc::new(ManualClock::starting_now());
    let sender = Arc::new(Sender::default());
    let signer = WebhookSigner::from_secret(&WebhookSigner::generate_secret()).unwrap();
    let signal = Arc::new(OutboxSignal::new(DeliveryPolicy::default().batch_size));
    let endpoints = vec![UP.to_owned(), DOWN.to_owned()];
    let queue = WebhookQueue::new(outbox.clone(), endpoints, clock.clone(), signal.clone());
    let policy = DeliveryPolicy {
        first_retry: Duration::from_secs(1),
        max_retry: Duration::from_secs(4),
        max_attempts,
        ..DeliveryPolicy::default()
    };
    let worker = WebhookWorker::new(outbox, sender.clone(), signer.clone(), clock.clone(), policy, signal);
    Rig { hub: EventHub::with_webhooks(queue), worker, sender, clock, signer }
}

impl Rig {
    async fn publish(&self, user: UserId, kind: AuthEventKind) -> AuthEvent {
        let event = AuthEvent::new(user, kind, self.clock.now());
        self.hub.publish(&event).await.unwrap();
        event
    }

    fn sent_to(&self, endpoint: &str) -> Vec<WebhookRequest> {
        self.sender
            .sent
            .lock()
            .unwrap()
            .iter()
            .filter(|request| request.endpoint == endpoint)
            .cloned()
            .collect()
    }

    /// Rounds until nothing is due, moving the clock past the longest backoff each time.
    async fn drain(&self) -> Vec<WebhookRound> {
        let mut rounds = Vec::new();
        for _ in 0..50 {
            let round = self.worker.deliver_due().await.unwrap();
            rounds.push(round);
            if self.worker.pending().await == Some(0) {
                break;
            }
            self.clock.advance(Duration::from_secs(5));
        }
        rounds
    }
}

fn signed_in() -> AuthEventKind {
    AuthEventKind::SignedIn { method: AuthMethod::Otp, session_id: SessionId::generate() }
}

#[tokio::test]
async fn each_attempt_is_signed_with_the_event_id_and_its_own_timestamp() {
    let rig = rig(10);
    let event = rig.publish(UserId::generate(), AuthEventKind::PasswordChanged).await;
    rig.sender.down.lock().unwrap().insert(UP.to_owned());
    rig.worker.deliver_due().await.unwrap();
    rig.sender.down.lock().unwrap().clear();
    rig.clock.advance(Duration::from_secs(5));
    rig.worker.deliver_due().await.unwrap();
    let request = &rig.sent_to(UP)[0];
    assert_eq!(request.id, event.id.to_string());
    assert_eq!(request.body, event.payload());
    assert_eq!(request.timestamp, rig.clock.now().unix_timestamp(), "the retry's own time");
    assert!(rig.signer.verify(&request.signature, &request.id, request.timestamp, request.body.as_bytes()));
}

/// One account's events go one at a time, in order; each next one leaves as soon as
/// the one before is done, not at the next idle poll (a second later each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_accounts_events_follow_each_other_without_waiting_for_the_idle_poll() {
    let rig = Arc::new(rig(10));
    let user = UserId::generate();
    let mut published = Vec::new();
    for _ in 0..3 {
        published.push(rig.publish(user, signed_in()).await.id.to_string());
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let rig = Arc::clone(&rig);
        async move {
            rig.worker
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent: Vec<String> = rig.sent_to(UP).into_iter().map(|request| request.id).collect();
    stop.send(()).unwrap();
    running.await.unwrap();
    assert_eq!(sent, published, "all three, in order, within half a second");
}

#[tokio::test]
async fn a_down_endpoint_holds_back_only_its_own_deliveries_and_gets_them_in_order_later() {
    let rig = rig(100);
    rig.sender.down.lock().unwrap().insert(DOWN.to_owned());
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let mut published = Vec::new();
    for user in [ann, bob, ann, ann, bob] {
        published.push(rig.publish(user, signed_in()).await);
    }
    let round = rig.worker.deliver_due().await.unwrap();
    // One head per account and endpoint: ann and bob to each endpoint.
    assert_eq!(round.claimed, 4);
    assert_eq!((round.delivered, round.deferred), (2, 2));
    assert_eq!(*rig.sender.tries.lock().unwrap(), 3, "the second delivery to the down endpoint is not tried");
    rig.drain().await;
    assert_eq!(rig.sent_to(UP).len(), 5, "the endpoint that is up got everything");
    assert!(rig.sent_to(DOWN).is_empty());

    rig.sender.down.lock().unwrap().clear();
    rig.drain().await;
    for user in [ann, bob] {
        let expected: Vec<String> = published
            .iter()
            .filter(|event| event.user_id == user)
            .map(|event| event.id.to_string())
            .collect();
        for endpoint in [UP, DOWN] {
            let ids: Vec<String> = rig
                .sent_to(endpoint)
                .into_iter()
                .filter(|request| expected.contains(&request.id))
                .map(|request| request.id)
                .collect();
            assert_eq!(ids, expected, "{endpoint}");
        }
    }
}

#[tokio::test]
async fn a_delivery_is_dropped_after_its_last_attempt_and_the_next_one_goes() {
    let rig = rig(3);
    rig.sender.down.lock().unwrap().insert(DOWN.to_owned());
    let user = UserId::generate();
    let first = rig.publish(user, AuthEventKind::UserDeleted).await;
    let rounds = rig.drain().await;
    assert_eq!(rounds.iter().map(|round| round.dropped).sum::<usize>(), 1);
    assert_eq!(rig.worker.pending().await, Some(0));
    rig.sender.down.lock().unwrap().clear();
    let second = rig.publish(user, signed_in()).await;
    rig.drain().await;
    let ids: Vec<String> = rig.sent_to(DOWN).into_iter().map(|request| request.id).collect();
    assert_eq!(ids, [second.id.to_string()]);
    assert_ne!(first.id, second.id);
}
