//! The outbox delivery worker on the in-memory outbox, with a recording transport and a
//! manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use otp_core::crypto::{KeyedHasher, MailSealer};
use otp_core::domain::{MailKind, MailMessage, OutboxId};
use otp_core::mail::{
    DeliveryMeter, DeliveryPolicy, DeliveryRound, DeliveryWorker, MailHandoff, OutboxSignal, QueueingMailer,
};
use otp_core::ports::{ClaimedMessage, Clock, MailOutbox, Mailer, NewOutboxMessage};
use otp_core::{EmailAddress, OtpCode, PortError};
use otp_memory::{ManualClock, MemoryOutbox, RecordingMailer};
use time::OffsetDateTime;

struct Rig {
    outbox: Arc<dyn MailOutbox>,
    transport: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
    sealer: MailSealer,
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
    rig_on(Arc::new(MemoryOutbox::new()), transport, recording, policy)
}

fn rig_on(
    outbox: Arc<dyn MailOutbox>,
    transport: Arc<dyn Mailer>,
    recording: Arc<RecordingMailer>,
    policy: DeliveryPolicy,
) -> Rig {
    let clock = Arc::new(ManualClock::starting_now());
    let sealer = MailSealer::new(&KeyedHasher::random());
    let signal = Arc::new(OutboxSignal::new(policy.batch_size));
    let meter = Arc::new(DeliveryMeter::new(4));
    let queue = QueueingMailer::new(
        outbox.clone(),
        sealer.clone(),
        clock.clone(),
        &policy,
        signal.clone(),
        meter.clone(),
    );
    let worker =
        DeliveryWorker::new(outbox.clone(), transport, sealer.clone(), clock.clone(), policy, signal, meter);
    Rig { outbox, transport: recording, clock, sealer, queue, worker }
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
    /// The same rig, its queue handing messages straight to its worker.
    fn handing_over(self) -> Self {
        self.handing_over_up_to(256)
    }

    /// The same rig with a hand-off of `capacity` messages.
    fn handing_over_up_to(self, capacity: usize) -> Self {
        let handoff = Arc::new(MailHandoff::new(capacity));
        Self {
            queue: self.queue.with_handoff(handoff.clone()),
            worker: self.worker.with_handoff(handoff),
            ..self
        }
    }

    /// Another process on the same outbox: a queue and worker of their own, no hand-off.
    fn other_process(&self, policy: DeliveryPolicy) -> (QueueingMailer, DeliveryWorker) {
        let signal = Arc::new(OutboxSignal::new(policy.batch_size));
        let meter = Arc::new(DeliveryMeter::new(4));
        let queue = QueueingMailer::new(
            self.outbox.clone(),
            self.sealer.clone(),
            self.clock.clone(),
            &policy,
            signal.clone(),
            meter.clone(),
        );
        let worker = DeliveryWorker::new(
            self.outbox.clone(),
            self.transport.clone(),
            self.sealer.clone(),
            self.clock.clone(),
            policy,
            signal,
            meter,
        );
        (queue, worker)
    }

    /// The same rig, its worker (one of its own) sending through `transport`.
    fn sending_through(self, transport: Arc<dyn Mailer>) -> Self {
        let worker = DeliveryWorker::new(
            self.outbox.clone(),
            transport,
            self.sealer.clone(),
            self.clock.clone(),
            policy(),
            Arc::new(OutboxSignal::new(16)),
            Arc::new(DeliveryMeter::new(4)),
        );
        Self { worker, ..self }
    }

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
        Arc::new(OutboxSignal::new(16)),
        Arc::new(DeliveryMeter::new(1)),
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

/// A code that expires while its mail is still queued behind others is never sent,
/// even when the worker reaches it a moment later; it is dropped and counted.
#[tokio::test]
async fn a_code_that_expires_while_its_mail_is_queued_is_never_delivered() {
    let rig = rig();
    let short = |to: &str| MailMessage {
        to: EmailAddress::parse(to).unwrap(),
        kind: MailKind::SignInCode {
            code: OtpCode::parse("271828", 6).unwrap(),
            expires_in: Duration::from_secs(30),
        },
        locale: None,
    };
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    rig.queue.send(&short("bob@example.com")).await.unwrap();
    // The worker is busy elsewhere until the short code has expired (the clock moves,
    // no round runs).
    rig.clock.advance(Duration::from_secs(30));
    let round = rig.round().await;
    assert_eq!((round.delivered, round.dropped), (1, 1));
    let sent: Vec<_> = rig.transport.messages().into_iter().map(|message| message.to.to_string()).collect();
    assert_eq!(sent, vec!["ann@example.com".to_owned()]);
    assert_eq!(rig.depth().await, 0, "the dead mail left the outbox");
    rig.clock.advance(Duration::from_secs(600));
    assert_eq!(rig.round().await.claimed, 0, "and never comes back");
}

/// A transport that takes a while per message and counts what it sent.
#[derive(Debug, Default)]
struct SlowTransport {
    sent: std::sync::Mutex<Vec<EmailAddress>>,
}

#[async_trait]
impl Mailer for SlowTransport {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.sent.lock().unwrap().push(message.to.clone());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_loops_share_the_backlog_send_each_message_once_and_measure_the_rate() {
    let slow = Arc::new(SlowTransport::default());
    let policy = DeliveryPolicy { batch_size: 4, ..policy() };
    let rig = Arc::new(rig_with(slow.clone(), Arc::new(RecordingMailer::new()), policy));
    for index in 0..40 {
        rig.queue.send(&code_mail(&format!("user{index}@example.com"))).await.unwrap();
    }
    assert_eq!(rig.worker.meter().backlog(), 40);
    assert_eq!(rig.worker.meter().expected_delay(), None, "no send measured yet");
    assert_eq!(
        rig.queue.admit("anyone", Duration::from_secs(1)),
        Ok(()),
        "nothing measured, nothing refused"
    );
    let started = std::time::Instant::now();
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let loops: Vec<_> = (0..4)
        .map(|_| {
            let (rig, mut stopped) = (rig.clone(), stop.subscribe());
            tokio::spawn(async move {
                rig.worker
                    .run(async move {
                        let _ = stopped.recv().await;
                    })
                    .await;
            })
        })
        .collect();
    let deadline = started + Duration::from_secs(10);
    while slow.sent.lock().unwrap().len() < 40 {
        assert!(std::time::Instant::now() < deadline, "the loops did not drain the outbox");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    stop.send(()).unwrap();
    for one in loops {
        tokio::time::timeout(Duration::from_secs(5), one).await.unwrap().unwrap();
    }
    let mut sent: Vec<_> = slow.sent.lock().unwrap().iter().map(ToString::to_string).collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 40, "each message once");
    // One loop alone would need 40 × 20 ms = 800 ms.
    assert!(took < Duration::from_millis(700), "four loops took {took:?}");
    assert_eq!(rig.worker.meter().backlog(), 0);
    // 4 workers at about 20 ms a message: some 200 a second.
    let rate = rig.worker.meter().rate().unwrap();
    assert!(rate > 50.0 && rate < 210.0, "{rate}");
}

/// Messages queued one after another while four loops wait are claimed in batches: the
/// first wakes one loop, which gathers the rest of the burst before it claims, instead
/// of every message waking a loop that claims it alone (a write to the outbox each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_queued_one_message_at_a_time_is_claimed_in_batches() {
    let outbox = Arc::new(ObservedOutbox::default());
    let transport = Arc::new(RecordingMailer::new());
    // No idle poll during the test: every claim is one a queued message asked for. A
    // gather window longer than the burst takes to queue, however busy the machine.
    let policy =
        DeliveryPolicy { idle_poll: Duration::from_secs(60), gather: Duration::from_millis(200), ..policy() };
    let rig = Arc::new(rig_on(outbox.clone(), transport.clone(), transport.clone(), policy));
    let claims = claims_for_a_burst(&rig, &outbox, &transport).await;
    // Four full batches, plus a claim or two that found the rest or nothing.
    assert!(claims <= 8, "64 messages took {claims} claims");
}

/// Starts four loops on `rig`, queues 64 messages one at a time once their first rounds
/// are done, and answers how many claims `outbox` saw until all were sent and gone.
async fn claims_for_a_burst(rig: &Arc<Rig>, outbox: &ObservedOutbox, transport: &RecordingMailer) -> usize {
    let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
    let loops: Vec<_> = (0..4)
        .map(|_| {
            let (rig, mut stopped) = (rig.clone(), stop.subscribe());
            tokio::spawn(async move { rig.worker.run(async move { drop(stopped.recv().await) }).await })
        })
        .collect();
    // Each loop's first round finds the outbox empty.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = outbox.claims.load(std::sync::atomic::Ordering::Relaxed);
    for index in 0..64 {
        rig.queue.send(&code_mail(&format!("user{index}@example.com"))).await.unwrap();
        tokio::task::yield_now().await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while transport.messages().len() < 64 || rig.depth().await > 0 {
        assert!(std::time::Instant::now() < deadline, "the loops did not send the burst");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let claims = outbox.claims.load(std::sync::atomic::Ordering::Relaxed) - before;
    stop.send(()).unwrap();
    for one in loops {
        tokio::time::timeout(Duration::from_secs(5), one).await.unwrap().unwrap();
    }
    claims
}

#[tokio::test]
async fn the_queue_refuses_codes_that_would_arrive_late_and_senders_over_their_cap() {
    let transport = Arc::new(RecordingMailer::new());
    let rig = rig_with(transport.clone(), transport, policy());
    let queue = rig.queue.with_sender_cap(3);
    let meter = rig.worker.meter();
    meter.sent(Duration::from_millis(100)); // 4 workers: 40 a second
    for index in 0..3 {
        queue.send_for(&code_mail(&format!("user{index}@example.com")), "flood").await.unwrap();
    }
    let wait = queue.admit("flood", Duration::from_secs(600)).unwrap_err();
    assert!(wait >= Duration::from_secs(1));
    assert_eq!(queue.admit("someone else", Duration::from_secs(600)), Ok(()));
    // 400 waiting at 40 a second: 10 s; a 10 s code must arrive within 5 s.
    meter.observe_depth(400);
    let wait = queue.admit("someone else", Duration::from_secs(10)).unwrap_err();
    assert_eq!(wait, Duration::from_secs(5));
    assert_eq!(queue.admit("someone else", Duration::from_secs(30)), Ok(()));
}

/// The in-memory outbox, counting the claims made on it; with `delivered_at_once`, its
/// messages are delivered (and reported finished to that meter) before `enqueue`
/// returns, as a fast delivery loop on another thread can.
#[derive(Debug, Default)]
struct ObservedOutbox {
    outbox: MemoryOutbox,
    claims: std::sync::atomic::AtomicUsize,
    /// How many of the next claims fail (the store is down).
    failing_claims: std::sync::atomic::AtomicUsize,
    /// Whether scheduling a retry fails (the store is down).
    failing_retries: std::sync::atomic::AtomicBool,
    delivered_at_once: Option<Arc<DeliveryMeter>>,
}

#[async_trait]
impl MailOutbox for ObservedOutbox {
    async fn enqueue(&self, message: &NewOutboxMessage) -> Result<(), PortError> {
        self.outbox.enqueue(message).await?;
        if let Some(meter) = &self.delivered_at_once {
            self.outbox.complete(message.id).await?;
            meter.finished(message.id);
        }
        Ok(())
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ClaimedMessage>, PortError> {
        self.claims.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let failing = &self.failing_claims;
        if failing.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok() {
            return Err(PortError::unavailable("the outbox is down"));
        }
        self.outbox.claim(now, limit, lease).await
    }

    async fn complete(&self, id: OutboxId) -> Result<(), PortError> {
        self.outbox.complete(id).await
    }

    async fn retry_at(&self, id: OutboxId, at: OffsetDateTime) -> Result<(), PortError> {
        if self.failing_retries.load(Ordering::Relaxed) {
            return Err(PortError::unavailable("the outbox is down"));
        }
        self.outbox.retry_at(id, at).await
    }

    async fn release(&self, id: OutboxId, now: OffsetDateTime) -> Result<(), PortError> {
        self.outbox.release(id, now).await
    }

    async fn depth(&self) -> Result<u64, PortError> {
        self.outbox.depth().await
    }
}

#[tokio::test]
async fn a_message_finished_before_its_enqueue_returns_is_not_counted_against_its_sender() {
    let meter = Arc::new(DeliveryMeter::new(1));
    let outbox =
        Arc::new(ObservedOutbox { delivered_at_once: Some(meter.clone()), ..ObservedOutbox::default() });
    let queue = QueueingMailer::new(
        outbox,
        MailSealer::new(&KeyedHasher::random()),
        Arc::new(ManualClock::starting_now()),
        &policy(),
        Arc::new(OutboxSignal::new(16)),
        meter.clone(),
    )
    .with_sender_cap(2);
    for index in 0..5 {
        queue.send_for(&code_mail(&format!("user{index}@example.com")), "client").await.unwrap();
    }
    assert_eq!(meter.queued_by("client"), 0, "every message was finished");
    assert_eq!(meter.backlog(), 0);
    assert_eq!(queue.admit("client", Duration::from_secs(600)), Ok(()));
}

/// With a hand-off, a burst queued while four loops run goes out without a single claim
/// back from the outbox: each message is stored leased to this process and handed to
/// the loops in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handed_over_mail_goes_out_without_claims() {
    let outbox = Arc::new(ObservedOutbox::default());
    let transport = Arc::new(RecordingMailer::new());
    let policy = DeliveryPolicy { idle_poll: Duration::from_secs(60), ..policy() };
    let rig = Arc::new(rig_on(outbox.clone(), transport.clone(), transport.clone(), policy).handing_over());
    let claims = claims_for_a_burst(&rig, &outbox, &transport).await;
    assert_eq!(claims, 0, "64 handed-over messages took {claims} claims");
    let mut sent: Vec<_> = transport.messages().into_iter().map(|message| message.to.to_string()).collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 64, "each message once");
}

/// Rounds that find handed-over mail still claim once an idle poll, so another
/// instance's messages (and retries) are not held up by a steady local load.
#[tokio::test]
async fn a_steady_local_load_still_lets_a_claim_through_once_an_idle_poll() {
    let policy = DeliveryPolicy { idle_poll: Duration::from_millis(500), ..policy() };
    let rig = rig_with(Arc::new(RecordingMailer::new()), Arc::new(RecordingMailer::new()), policy.clone());
    let transport = rig.transport.clone();
    let rig = Rig {
        worker: DeliveryWorker::new(
            rig.outbox.clone(),
            transport.clone(),
            rig.sealer.clone(),
            rig.clock.clone(),
            policy.clone(),
            Arc::new(OutboxSignal::new(policy.batch_size)),
            Arc::new(DeliveryMeter::new(4)),
        ),
        ..rig
    }
    .handing_over();
    assert_eq!(rig.round().await.claimed, 0, "the first round claims and finds nothing");
    let (elsewhere, _) = rig.other_process(policy);
    elsewhere.send(&code_mail("other@example.com")).await.unwrap();
    rig.queue.send(&code_mail("local1@example.com")).await.unwrap();
    let round = rig.round().await;
    assert_eq!(round.delivered, 1, "within the idle poll, only the handed-over message");
    tokio::time::sleep(Duration::from_millis(600)).await;
    rig.queue.send(&code_mail("local2@example.com")).await.unwrap();
    assert_eq!(rig.round().await.delivered, 2, "the claim came first, then the hand-off");
    let sent: Vec<_> = transport.messages().into_iter().map(|message| message.to.to_string()).collect();
    assert_eq!(sent, ["local1@example.com", "other@example.com", "local2@example.com"]);
    assert_eq!(rig.depth().await, 0);
}

/// A handed-over message no loop got to while half its lease was left is not sent
/// from the hand-off (the outbox could already be about to give it to another
/// instance): it goes out once, claimed, when the lease ends.
#[tokio::test]
async fn handed_over_mail_whose_lease_is_half_gone_goes_out_once_after_the_lease() {
    let rig = rig().handing_over();
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    let lease = DeliveryPolicy::default().lease;
    rig.clock.advance(lease / 2 + Duration::from_secs(1));
    assert_eq!(rig.round().await.claimed, 0, "passed over, and still leased in the outbox");
    assert!(rig.transport.messages().is_empty());
    rig.clock.advance(lease / 2);
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (1, 1));
    assert_eq!(rig.transport.messages(), vec![code_mail("ann@example.com")]);
    rig.clock.advance(lease * 2);
    assert_eq!(rig.round().await.claimed, 0, "sent once");
}

/// Mail handed over by a process that stops before sending it is not lost: another
/// process claims it from the outbox when its lease ends, with the attempt counted.
#[tokio::test]
async fn handed_over_mail_of_a_process_that_stopped_goes_out_from_another() {
    let rig = rig().handing_over();
    rig.queue.send(&code_mail("ann@example.com")).await.unwrap();
    let (_, other) = rig.other_process(policy());
    assert_eq!(other.deliver_due().await.unwrap().claimed, 0, "leased to the first process");
    rig.clock.advance(DeliveryPolicy::default().lease);
    drop(rig.worker);
    let round = other.deliver_due().await.unwrap();
    assert_eq!((round.claimed, round.delivered), (1, 1));
    assert_eq!(rig.transport.messages(), vec![code_mail("ann@example.com")]);
    assert_eq!(rig.outbox.depth().await.unwrap(), 0);
}

/// Messages stored due for want of room in the hand-off are claimed by the next round
/// even though it also finds handed-over messages: they do not wait for the idle poll.
#[tokio::test]
async fn mail_that_spilled_past_a_full_hand_off_goes_out_with_the_next_round() {
    let policy = DeliveryPolicy { idle_poll: Duration::from_secs(60), ..policy() };
    let recording = Arc::new(RecordingMailer::new());
    let rig = rig_with(recording.clone(), recording, policy).handing_over_up_to(1);
    assert_eq!(rig.round().await.claimed, 0, "the first round claims and finds nothing");
    for index in 0..3 {
        rig.queue.send(&code_mail(&format!("user{index}@example.com"))).await.unwrap();
    }
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (3, 3), "two claimed, one handed over");
    assert_eq!(rig.depth().await, 0);
}

/// A transport that takes `each` of the manual clock's time per message.
#[derive(Debug)]
struct ClockedTransport {
    clock: Arc<ManualClock>,
    each: Duration,
    recording: Arc<RecordingMailer>,
}

#[async_trait]
impl Mailer for ClockedTransport {
    async fn send(&self, message: &MailMessage) -> Result<(), PortError> {
        self.clock.advance(self.each);
        self.recording.send(message).await
    }
}

/// When sends are so slow that a round would reach a message with less than half its
/// lease left, that message is left to the outbox and claimed once its lease ends:
/// another instance could claim it then, so sending it late could send it twice.
#[tokio::test]
async fn a_round_leaves_a_message_whose_lease_ran_half_out_to_the_outbox() {
    let recording = Arc::new(RecordingMailer::new());
    let rig = rig_with(recording.clone(), recording.clone(), policy());
    let lease = DeliveryPolicy::default().lease;
    let each = lease / 2 + Duration::from_secs(1);
    let slow = ClockedTransport { clock: rig.clock.clone(), each, recording: recording.clone() };
    let rig = rig.sending_through(Arc::new(slow)).handing_over();
    for to in ["ann@example.com", "bob@example.com"] {
        rig.queue.send(&code_mail(to)).await.unwrap();
    }
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (2, 1), "the second is left to the outbox");
    assert_eq!(rig.round().await.claimed, 0, "still leased");
    rig.clock.advance(lease / 2);
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (1, 1));
    let sent: Vec<_> = recording.messages().into_iter().map(|message| message.to.to_string()).collect();
    assert_eq!(sent, ["ann@example.com", "bob@example.com"], "each once");
}

/// At shutdown, what is still in the hand-off is released: due at once for another
/// instance, its attempt uncounted, instead of waiting for its lease to end.
#[tokio::test]
async fn mail_left_in_the_hand_off_is_released_to_the_outbox() {
    let rig = rig().handing_over();
    for to in ["ann@example.com", "bob@example.com"] {
        rig.queue.send(&code_mail(to)).await.unwrap();
    }
    assert_eq!(rig.worker.release_handed().await.unwrap(), 2);
    assert_eq!(rig.worker.release_handed().await.unwrap(), 0, "nothing handed over is left");
    let claimed = rig.outbox.claim(rig.clock.now(), 16, Duration::from_secs(60)).await.unwrap();
    assert_eq!(claimed.len(), 2, "due at once");
    assert!(claimed.iter().all(|message| message.attempts == 1), "the hand-off's attempt uncounted");
}

/// A claim that fails does not lose the news that messages spilled past a full
/// hand-off: the next round claims them, not only what was handed over.
#[tokio::test]
async fn spilled_mail_is_claimed_after_a_failed_claim() {
    let outbox = Arc::new(ObservedOutbox::default());
    let transport = Arc::new(RecordingMailer::new());
    let policy = DeliveryPolicy { idle_poll: Duration::from_secs(60), ..policy() };
    let rig = rig_on(outbox.clone(), transport.clone(), transport, policy).handing_over_up_to(1);
    assert_eq!(rig.round().await.claimed, 0, "the first round claims and finds nothing");
    for index in 0..3 {
        rig.queue.send(&code_mail(&format!("user{index}@example.com"))).await.unwrap();
    }
    outbox.failing_claims.store(1, Ordering::Relaxed);
    assert!(rig.worker.deliver_due().await.is_err(), "the claim for the spilled mail failed");
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (3, 3), "two claimed, one handed over");
    assert_eq!(rig.depth().await, 0);
}

/// A transport that takes up to `limit` messages per call, records each call's size,
/// refuses for good the addresses in `refused`, and is unavailable for those in
/// `unreachable`; with `clock`, each call takes `each` of its time.
#[derive(Debug, Default)]
struct BatchingTransport {
    limit: usize,
    calls: std::sync::Mutex<Vec<usize>>,
    refused: Vec<&'static str>,
    unreachable: Vec<&'static str>,
    clock: Option<(Arc<ManualClock>, Duration)>,
    recording: RecordingMailer,
}

#[async_trait]
impl Mailer for BatchingTransport {
    async fn send(&self, _message: &MailMessage) -> Result<(), PortError> {
        panic!("a batching transport is sent to through send_all")
    }

    async fn send_all(&self, messages: &[&MailMessage]) -> Vec<Result<(), PortError>> {
        assert!(messages.len() <= self.limit, "{} messages past the limit of {}", messages.len(), self.limit);
        self.calls.lock().unwrap().push(messages.len());
        if let Some((clock, each)) = &self.clock {
            clock.advance(*each);
        }
        let mut results = Vec::new();
        for message in messages {
            let to = message.to.to_string();
            results.push(if self.refused.contains(&to.as_str()) {
                Err(PortError::failed("550 mailbox unavailable"))
            } else if self.unreachable.contains(&to.as_str()) {
                Err(PortError::unavailable("connection refused"))
            } else {
                self.recording.send(message).await
            });
        }
        results
    }

    fn batch_limit(&self) -> usize {
        self.limit
    }
}

fn numbered(count: usize) -> Vec<String> {
    (0..count).map(|index| format!("user{index}@example.com")).collect()
}

/// One round over twelve queued code mails, sent through `transport`.
async fn round_of_twelve(transport: BatchingTransport) -> (Arc<BatchingTransport>, Rig, DeliveryRound) {
    let transport = Arc::new(transport);
    let rig = rig_with(transport.clone(), Arc::new(RecordingMailer::new()), policy());
    for to in numbered(12) {
        rig.queue.send(&code_mail(&to)).await.unwrap();
    }
    let round = rig.round().await;
    (transport, rig, round)
}

/// A transport that takes batches gets a round's messages in as few calls as its
/// limit allows, and each message is settled by its own result: one refused for good
/// is dropped, the others delivered.
#[tokio::test]
async fn a_batching_transport_gets_a_round_in_few_calls_and_each_message_settles_alone() {
    let refused = vec!["user3@example.com"];
    let (transport, rig, round) =
        round_of_twelve(BatchingTransport { limit: 8, refused, ..BatchingTransport::default() }).await;
    assert_eq!(round, DeliveryRound { claimed: 12, delivered: 11, dropped: 1, ..DeliveryRound::default() });
    assert_eq!(*transport.calls.lock().unwrap(), [8, 4]);
    assert_eq!(transport.recording.messages().len(), 11);
    assert_eq!(rig.depth().await, 0);
}

/// When the transport is unavailable for a message of a batch, the batch's others are
/// settled by their own results, and the rest of the round waits without being tried.
#[tokio::test]
async fn a_batch_that_meets_an_unavailable_transport_defers_the_rest_of_the_round() {
    let unreachable = vec!["user5@example.com"];
    let (transport, rig, round) =
        round_of_twelve(BatchingTransport { limit: 4, unreachable, ..BatchingTransport::default() }).await;
    assert_eq!(round, DeliveryRound { claimed: 12, delivered: 7, deferred: 5, ..DeliveryRound::default() });
    assert_eq!(*transport.calls.lock().unwrap(), [4, 4], "the third batch waits");
    assert_eq!(rig.depth().await, 5);
}

/// A batching transport's calls are each checked against the lease: a batch the
/// round reaches with less than half the lease left is left to the outbox.
#[tokio::test]
async fn each_batch_is_checked_against_the_lease() {
    let lease = DeliveryPolicy::default().lease;
    let rig = rig();
    let transport = Arc::new(BatchingTransport {
        limit: 2,
        clock: Some((rig.clock.clone(), lease / 2 + Duration::from_secs(1))),
        ..BatchingTransport::default()
    });
    let rig = rig.sending_through(transport.clone());
    for to in numbered(4) {
        rig.queue.send(&code_mail(&to)).await.unwrap();
    }
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (4, 2), "the second batch is left to the outbox");
    assert_eq!(*transport.calls.lock().unwrap(), [2]);
    rig.clock.advance(lease / 2);
    let round = rig.round().await;
    assert_eq!((round.claimed, round.delivered), (2, 2));
    assert_eq!(transport.recording.messages().len(), 4, "each once");
}

/// When a batch's retry cannot be scheduled (the outbox is down for that write), the
/// messages of the batch the transport accepted still leave the outbox, so they are
/// not sent again when their lease ends; the round reports the outbox's failure.
#[tokio::test]
async fn a_retry_that_cannot_be_scheduled_still_lets_the_rest_of_its_batch_complete() {
    let outbox = Arc::new(ObservedOutbox::default());
    let transport = Arc::new(BatchingTransport {
        limit: 4,
        unreachable: vec!["user1@example.com"],
        ..BatchingTransport::default()
    });
    let rig = rig_on(outbox.clone(), transport.clone(), Arc::new(RecordingMailer::new()), policy());
    for to in numbered(4) {
        rig.queue.send(&code_mail(&to)).await.unwrap();
    }
    outbox.failing_retries.store(true, Ordering::Relaxed);
    assert!(rig.worker.deliver_due().await.is_err(), "the retry could not be scheduled");
    assert_eq!(transport.recording.messages().len(), 3);
    assert_eq!(rig.depth().await, 1, "the three sent left the outbox; the fourth stays leased");
}
