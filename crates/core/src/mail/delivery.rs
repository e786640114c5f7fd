use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{DeliveryMeter, DeliveryPolicy, MailHandoff, OutboxSignal, run_rounds};
use crate::crypto::MailSealer;
use crate::domain::OutboxId;
use crate::error::PortError;
use crate::ports::{Clock, MailOutbox, Mailer};

mod sending;

use sending::Taken;

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Messages taken this round: claimed from the outbox, or handed over by this
    /// process's queue ([`MailHandoff`]).
    pub claimed: usize,
    /// Messages the transport accepted.
    pub delivered: usize,
    /// Messages put back for a later try (the transport was unavailable).
    pub deferred: usize,
    /// Messages given up on: refused for good, out of attempts, expired or unreadable.
    pub dropped: usize,
}

/// Sends queued mail through the transport: claims due messages, opens them, sends them,
/// and completes, defers (with backoff) or drops each. One per process, run as
/// [`DeliveryMeter::workers`] concurrent loops ([`DeliveryWorker::run`] called that many
/// times); several processes may share one outbox. A code mail whose code has expired
/// is never sent: it is dropped and counted (`otp_mail_dropped_total{reason="expired"}`).
#[derive(Debug)]
pub struct DeliveryWorker {
    outbox: Arc<dyn MailOutbox>,
    transport: Arc<dyn Mailer>,
    sealer: MailSealer,
    clock: Arc<dyn Clock>,
    policy: DeliveryPolicy,
    signal: Arc<OutboxSignal>,
    meter: Arc<DeliveryMeter>,
    /// When the outbox depth was last read into the meter.
    depth_read: std::sync::Mutex<Option<std::time::Instant>>,
    /// This process's own messages, when its queue hands them over.
    handoff: Option<Arc<MailHandoff>>,
    /// When a round last claimed from the outbox.
    last_claim: std::sync::Mutex<Option<std::time::Instant>>,
    /// Whether the last claim took a full batch (more may be due).
    more_due: AtomicBool,
}

/// Whether a round that was handed nothing claims from the outbox.
#[derive(Debug, Clone, Copy)]
enum Claim {
    /// Yes ([`DeliveryWorker::deliver_due`]: a caller asks for what is due).
    WhenNothingHanded,
    /// Only without a hand-off; with one, what the outbox is known to hold was claimed
    /// first ([`DeliveryWorker::claim_first`]; the loops of [`DeliveryWorker::run`]).
    WhenNeeded,
}

/// How often the outbox depth is read into the meter (it counts other instances' mail).
const DEPTH_REFRESH: Duration = Duration::from_secs(1);

impl DeliveryWorker {
    /// A worker sending from `outbox` through `transport`; `signal` and `meter` are shared
    /// with the [`super::QueueingMailer`] so a queued message is sent at once and a
    /// request knows the backlog.
    pub fn new(
        outbox: Arc<dyn MailOutbox>,
        transport: Arc<dyn Mailer>,
        sealer: MailSealer,
        clock: Arc<dyn Clock>,
        policy: DeliveryPolicy,
        signal: Arc<OutboxSignal>,
        meter: Arc<DeliveryMeter>,
    ) -> Self {
        Self {
            outbox,
            transport,
            sealer,
            clock,
            policy,
            signal,
            meter,
            depth_read: std::sync::Mutex::new(None),
            handoff: None,
            last_claim: std::sync::Mutex::new(None),
            more_due: AtomicBool::new(false),
        }
    }

    /// Sends the messages the process's [`super::QueueingMailer`] hands over through
    /// `handoff` (the same one, [`super::QueueingMailer::with_handoff`]) without
    /// claiming them back. The loops' rounds then claim from the outbox only when it is
    /// known to hold more (see [`Self::deliver_due`]), and at least once every half
    /// [`DeliveryPolicy::idle_poll`], so retries and other instances' messages still go
    /// out under a steady local load. Call [`Self::release_handed`] once the loops
    /// have stopped.
    #[must_use]
    pub fn with_handoff(mut self, handoff: Arc<MailHandoff>) -> Self {
        self.handoff = Some(handoff);
        self
    }

    /// What the workers measure.
    pub fn meter(&self) -> &Arc<DeliveryMeter> {
        &self.meter
    }

    /// Takes one batch of messages and tries each once: those handed over by this
    /// process's queue ([`Self::with_handoff`]), and due ones claimed from the outbox
    /// when nothing was handed over. With a hand-off, the claim comes first instead when
    /// the outbox is known to hold more: the last claim was full, or messages were
    /// stored due for want of room in the hand-off, or no round claimed for half an
    /// idle poll (retries, other instances' messages). The messages it is done with
    /// (delivered or given up on) leave the outbox together at the end of the round, in
    /// one step ([`MailOutbox::complete_all`]): a round of 16 costs the store two
    /// writes, not seventeen (one, when handed over). A process that dies within a
    /// round may so send up to a batch again when the leases end, where one at a time
    /// it would resend one.
    ///
    /// A message is sent only while at least half the lease on it is left (a
    /// transport call takes less): one the round gets to later is left to the outbox,
    /// which makes it due when the lease ends, rather than risk another instance
    /// sending it too.
    ///
    /// # Errors
    /// [`PortError`] when the outbox itself fails; the claimed messages then come back
    /// when their lease ends.
    pub async fn deliver_due(&self) -> Result<DeliveryRound, PortError> {
        self.deliver(Claim::WhenNothingHanded).await
    }

    async fn deliver(&self, rule: Claim) -> Result<DeliveryRound, PortError> {
        let claim_first = self.claim_first();
        let mut taken = if claim_first { self.claim().await? } else { Vec::new() };
        if let Some(handoff) = &self.handoff {
            let room = self.policy.batch_size.saturating_sub(taken.len());
            let now = self.clock.now();
            taken.extend(handoff.take(room, now, self.policy.lease / 2).into_iter().map(Taken::from));
        }
        // A loop woken for this process's messages that finds them gone (another loop
        // took them) has nothing to claim: what the outbox is known to hold was claimed
        // first. A caller of `deliver_due` asks for whatever is due.
        let claim_now = self.handoff.is_none() || matches!(rule, Claim::WhenNothingHanded);
        if taken.is_empty() && !claim_first && claim_now {
            taken = self.claim().await?;
        }
        let mut round = DeliveryRound { claimed: taken.len(), ..DeliveryRound::default() };
        let mut done = Vec::with_capacity(taken.len());
        let tried = self.try_each(taken, &mut round, &mut done).await;
        // What was sent leaves the outbox even when a later message's step failed.
        let completed = self.complete_all(&done).await;
        tried.and(completed)?;
        Ok(round)
    }

    /// Whether a round claims before it takes handed-over messages (with a hand-off
    /// only: without one, every round claims): when the last claim was full, when
    /// messages spilled into the outbox since the last claim, or when no round claimed
    /// for half an idle poll (so the poller's round, woken an idle poll after the last
    /// one, claims even when another claim came a little later).
    fn claim_first(&self) -> bool {
        let Some(handoff) = &self.handoff else { return false };
        let poll_due = match self.last_claim.lock() {
            Ok(last) => last.is_none_or(|at| at.elapsed() >= self.policy.idle_poll / 2),
            Err(_) => true,
        };
        // Only looked at here: the claim takes the flag, and gives it back if it fails.
        poll_due || self.more_due.load(Ordering::Acquire) || handoff.has_spilled()
    }

    /// Claims up to a batch of due messages from the outbox.
    async fn claim(&self) -> Result<Vec<Taken>, PortError> {
        if let Ok(mut last) = self.last_claim.lock() {
            *last = Some(std::time::Instant::now());
        }
        // This claim sees whatever spilled until now.
        let spilled = self.handoff.as_ref().filter(|handoff| handoff.take_spilled());
        let now = self.clock.now();
        let claimed = match self.outbox.claim(now, self.policy.batch_size, self.policy.lease).await {
            Ok(claimed) => claimed,
            Err(error) => {
                if let Some(handoff) = spilled {
                    handoff.spilled();
                }
                return Err(error);
            }
        };
        self.more_due.store(claimed.len() == self.policy.batch_size, Ordering::Release);
        let leased_until = now + self.policy.lease;
        Ok(claimed.into_iter().map(|message| Taken::claimed(message, leased_until)).collect())
    }

    /// Makes every message still in the hand-off due at once in the outbox, its
    /// attempt uncounted ([`MailOutbox::release`]), for another instance (or this one,
    /// restarted) to send without waiting for its lease to end; for when the loops have
    /// stopped. Answers how many it released.
    ///
    /// # Errors
    /// [`PortError`] when the outbox fails (the rest then waits for its lease).
    pub async fn release_handed(&self) -> Result<usize, PortError> {
        let Some(handoff) = &self.handoff else { return Ok(0) };
        let now = self.clock.now();
        let left = handoff.take(usize::MAX, now, Duration::ZERO);
        for message in &left {
            self.outbox.release(message.id, now).await?;
        }
        Ok(left.len())
    }

    /// Removes messages from the outbox and from the meter's backlog.
    async fn complete_all(&self, ids: &[OutboxId]) -> Result<(), PortError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.outbox.complete_all(ids).await?;
        for id in ids {
            self.meter.finished(*id);
        }
        Ok(())
    }

    /// How many messages wait in the outbox, or `None` when it cannot be read.
    pub async fn pending(&self) -> Option<u64> {
        self.outbox.depth().await.ok()
    }

    /// Reads the outbox depth into the meter, at most every [`DEPTH_REFRESH`] across
    /// all loops.
    async fn refresh_depth(&self) {
        {
            let Ok(mut read) = self.depth_read.lock() else { return };
            if read.is_some_and(|at| at.elapsed() < DEPTH_REFRESH) {
                return;
            }
            *read = Some(std::time::Instant::now());
        }
        if let Ok(depth) = self.outbox.depth().await {
            self.meter.observe_depth(depth);
        }
    }

    /// Delivers until `shutdown` completes: a round whenever a message is queued, and,
    /// for one waiting loop of the process at a time, every [`DeliveryPolicy::idle_poll`]
    /// for retries and other instances' messages. A round in progress is
    /// finished before it stops, so no claimed message is left half-handled. Several
    /// loops may run at once on one worker: claims never share a message.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let round = || async move {
            self.refresh_depth().await;
            let round = self.deliver(Claim::WhenNeeded).await?;
            Ok((round.claimed, round.deferred))
        };
        run_rounds(round, &self.policy, &self.signal, shutdown, "mail").await;
    }
}

fn dropped(reason: &'static str) {
    metrics::counter!("otp_mail_dropped_total", "reason" => reason).increment(1);
}
