//! The outbox delivery worker on the in-memory outbox, with a recording transport and a
//! manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otp_core::crypto::{KeyedHasher, MailSealer};
use otp_core::domain::{MailKind, MailMessage};
use otp_core::mail::{DeliveryPolicy, DeliveryRound, DeliveryWorker, QueueingMailer};
use otp_core::ports::{MailOutbox, Mailer};
use otp_core::{EmailAddress, OtpCode, PortError};
use otp_memory::{ManualClock, MemoryOutbox, RecordingMailer};
use tokio::sync::Notify;

struct Rig {
    outbox: Arc<MemoryOutbox>,
    transport: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    queue: QueueingMailer,
    worker: DeliveryWorker,
}

fn policy() -> DeliveryPolicy {
    DeliveryPolicy {
        first_retry: Duration::from_secs(1),
        max_retry: Duration::from_secs(8),
        max_attempts: 4,
        idle_poll: Duration::from_millis(20),
        ..DeliveryPolicy::default()
    }
}

fn rig_with(transport: Arc<dyn Mailer>, recording: Arc<RecordingMailer>, policy: DeliveryPolicy) -> Rig {
    let outbox = Arc::new(MemoryOutbox::new());
    let clock = Arc::new(ManualClock::starting_now());
    let sealer = MailSealer::new(&KeyedHasher::random());
    let wake = Arc::new(Notify::new());
    let queue = QueueingMailer::new(outbox.clone(), sealer.clone(), clock.clone(), &policy, wake.clone());
    let worker = DeliveryWorker::new(outbox.clone(), transport, sealer, clock.clone(), policy, wake);
    Rig { outbox, transport: recording, clock, queue, worker }
}

fn rig() -> Rig {
    let transport = Arc::new(RecordingMailer::new());
    rig_with(transport.clone(), transport, policy())
}

fn code_mail(to: &str) -> MailMessage {
    MailMessage {
        to: EmailAddress::parse(to).unwrap(),
        kind: MailKind::SignInCode {
            code: OtpCode::parse("314159", 6).unwrap(),
            expires_in: Duration::from_secs(600),
        },
        locale: None,
    }
}

impl Rig {
    async fn round(&self) -> DeliveryRound {
        self.worker.deliver_due().await.unwrap()
    }

    async fn depth(&self) -> u64 {
        self.outbox.depth().await.unwrap()
    }
}

#[tokio::test]
async fn a_queued_message_is_sent_as_queued_and_leaves_the_outbox() {
    let rig = rig();
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    assert_eq!(rig.depth().await, 1);
    assert!(rig.transport.messages().is_empty(), "queueing sends nothing by itself");
    let round = rig.round().await;
    assert_eq!(round, DeliveryRound { claimed: 1, delivered: 1, ..DeliveryRound::default() });
    assert_eq!(rig.transport.messages(), vec![code_mail("ann@example.com")]);
    assert_eq!(rig.depth().await, 0);
}

#[tokio::test]
async fn while_the_transport_is_down_messages_wait_and_then_go_once() {
    let rig = rig();
    for n in 0..3 {
        rig.queue.send(&code_mail(&format!("user{n}@example.com"))).await.unwrap();
    }
    rig.transport.set_failing(true);
    let round = rig.round().await;
    assert_eq!(round.deferred, 3);
    assert_eq!(rig.round().await.claimed, 0, "nothing is due before the backoff");
    rig.transport.set_failing(false);
    rig.clock.advance(Duration::from_secs(1));
    assert_eq!(rig.round().await.delivered, 3);
    assert_eq!(rig.transport.messages().len(), 3);
    assert_eq!(rig.depth().await, 0);
    rig.clock.advance(Duration::from_secs(600));
    assert_eq!(rig.round().await.claimed, 0, "nothing is sent twice");
}

#[tokio::test]
async fn a_message_is_dropped_when_its_attempts_run_out() {
    let rig = rig();
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    rig.transport.set_failing(true);
    let mut dropped = 0;
    for _ in 0..10 {
        dropped += rig.round().await.dropped;
        rig.clock.advance(Duration::from_secs(8));
    }
    assert_eq!(dropped, 1);
    assert_eq!(rig.depth().await, 0);
}

#[tokio::test]
async fn a_message_whose_code_expired_is_not_sent() {
    let rig = rig();
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    rig.clock.advance(Duration::from_secs(601));
    assert_eq!(rig.round().await.dropped, 1);
    assert!(rig.transport.messages().is_empty());
}

#[tokio::test]
async fn retries_stop_before_the_code_would_expire() {
    let transport = Arc::new(RecordingMailer::new());
    let policy = DeliveryPolicy { max_attempts: 100, ..policy() };
    let rig = rig_with(transport.clone(), transport, policy);
    let mail = MailMessage {
        to: EmailAddress::parse("ann@example.com").unwrap(),
        kind: MailKind::SignInCode {
            code: OtpCode::parse("314159", 6).unwrap(),
            expires_in: Duration::from_millis(200),
        },
        locale: None,
    };
    rig.queue.send(&mail).await.unwrap();
    rig.transport.set_failing(true);
    assert_eq!(rig.round().await.dropped, 1, "the next try would come after the code expired");
}

#[derive(Debug)]
struct RefusingTransport;

#[async_trait]
impl Mailer for RefusingTransport {
    async fn send(&self, _message: &MailMessage) -> Result<(), PortError> {
        Err(PortError::failed("550 mailbox unavailable"))
    }
}

#[tokio::test]
async fn a_permanent_refusal_is_not_retried() {
    let rig = rig_with(Arc::new(RefusingTransport), Arc::new(RecordingMailer::new()), policy());
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    assert_eq!(rig.round().await.dropped, 1);
    rig.clock.advance(Duration::from_secs(60));
    assert_eq!(rig.round().await.claimed, 0);
}

#[tokio::test]
async fn a_message_sealed_under_another_secret_is_dropped() {
    let rig = rig();
    let stranger = QueueingMailer::new(
        rig.outbox.clone(),
        MailSealer::new(&KeyedHasher::random()),
        rig.clock.clone(),
        &policy(),
        Arc::new(Notify::new()),
    );
    stranger.send(&code_mail("ann@example.com")).await.unwrap();
    assert_eq!(rig.round().await.dropped, 1);
    assert!(rig.transport.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_worker_sends_as_soon_as_a_message_is_queued_and_stops_on_shutdown() {
    let rig = Arc::new(rig());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = {
        let rig = rig.clone();
        tokio::spawn(async move {
            rig.worker
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while rig.transport.messages().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the worker did not send the message");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker).await.unwrap().unwrap();
}
