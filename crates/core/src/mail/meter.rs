use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::domain::OutboxId;

/// Weight of the newest send in the running average of send times.
const SMOOTHING: f64 = 0.1;

/// What the delivery workers have measured, shared with the [`super::QueueingMailer`]
/// so that a request can tell how long a new message would wait: the backlog (the
/// outbox depth last read, plus what was queued and minus what was finished since),
/// the average time one send takes, and how many messages each sender (a pseudonym of
/// the client that asked for them) has queued through this instance.
#[derive(Debug)]
pub struct DeliveryMeter {
    workers: usize,
    backlog: AtomicU64,
    /// Running average of one send's duration, in seconds; `None` before the first.
    send_seconds: Mutex<Option<f64>>,
    senders: Mutex<Senders>,
}

/// Messages queued through this instance and not yet finished here, by sender. One
/// finished by another instance is forgotten once its lifetime is over.
#[derive(Debug, Default)]
struct Senders {
    queued: HashMap<String, usize>,
    of: HashMap<OutboxId, (String, Instant)>,
    pruned: Option<Instant>,
}

impl Senders {
    fn forget(&mut self, id: OutboxId) {
        let Some((sender, _)) = self.of.remove(&id) else { return };
        if let Some(count) = self.queued.get_mut(&sender) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.queued.remove(&sender);
            }
        }
    }

    /// Forgets the messages whose lifetime is over, at most once a second.
    fn prune(&mut self, now: Instant) {
        if self.pruned.is_some_and(|at| now.duration_since(at) < Duration::from_secs(1)) {
            return;
        }
        self.pruned = Some(now);
        let over: Vec<OutboxId> =
            self.of.iter().filter(|(_, (_, until))| *until <= now).map(|(id, _)| *id).collect();
        for id in over {
            self.forget(id);
        }
    }
}

impl DeliveryMeter {
    /// A meter for `workers` concurrent senders (at least one), knowing nothing yet.
    pub fn new(workers: usize) -> Self {
        Self {
            workers: workers.max(1),
            backlog: AtomicU64::new(0),
            send_seconds: Mutex::new(None),
            senders: Mutex::new(Senders::default()),
        }
    }

    /// The number of concurrent senders.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// One message was queued.
    pub fn queued(&self) {
        self.backlog.fetch_add(1, Ordering::Relaxed);
    }

    /// Message `id`, worth sending for `lifetime`, was queued for `sender`.
    pub fn queued_for(&self, id: OutboxId, sender: &str, lifetime: Duration) {
        self.queued();
        let Ok(mut senders) = self.senders.lock() else { return };
        let now = Instant::now();
        senders.prune(now);
        *senders.queued.entry(sender.to_owned()).or_default() += 1;
        senders.of.insert(id, (sender.to_owned(), now + lifetime));
    }

    /// Message `id` left the outbox (delivered or dropped).
    pub fn finished(&self, id: OutboxId) {
        let _ =
            self.backlog.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        if let Ok(mut senders) = self.senders.lock() {
            senders.forget(id);
        }
    }

    /// How many messages `sender` has queued through this instance that are not
    /// finished yet.
    pub fn queued_by(&self, sender: &str) -> usize {
        let Ok(mut senders) = self.senders.lock() else { return 0 };
        senders.prune(Instant::now());
        senders.queued.get(sender).copied().unwrap_or(0)
    }

    /// The outbox depth as just read (it also counts other instances' messages).
    pub fn observe_depth(&self, depth: u64) {
        self.backlog.store(depth, Ordering::Relaxed);
    }

    /// One send through the transport took `took`.
    pub fn sent(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let Ok(mut average) = self.send_seconds.lock() else { return };
        *average = Some(match *average {
            Some(previous) => previous + SMOOTHING * (seconds - previous),
            None => seconds,
        });
    }

    /// The messages waiting, as far as this instance knows.
    pub fn backlog(&self) -> u64 {
        self.backlog.load(Ordering::Relaxed)
    }

    /// Messages per second the workers can send at the measured send time, when one
    /// has been measured.
    pub fn rate(&self) -> Option<f64> {
        let average = self.send_seconds.lock().ok().and_then(|average| *average)?;
        (average > 0.0).then(|| self.workers as f64 / average)
    }

    /// How long a message queued now would wait before it is sent: the backlog at the
    /// measured rate. `None` until a send has been measured.
    pub fn expected_delay(&self) -> Option<Duration> {
        let rate = self.rate()?;
        Some(Duration::from_secs_f64(self.backlog() as f64 / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_is_the_backlog_at_the_measured_rate_of_all_workers() {
        let meter = DeliveryMeter::new(4);
        meter.observe_depth(400);
        assert_eq!(meter.expected_delay(), None, "nothing measured yet");
        meter.sent(Duration::from_millis(100));
        // 4 workers at 0.1 s a message: 40 a second; 400 waiting: 10 s.
        let delay = meter.expected_delay().unwrap();
        assert!((delay.as_secs_f64() - 10.0).abs() < 1e-6, "{delay:?}");
        meter.queued();
        meter.finished(OutboxId::generate());
        meter.finished(OutboxId::generate());
        assert_eq!(meter.backlog(), 399);
    }

    #[test]
    fn the_send_time_is_a_running_average_and_the_backlog_never_goes_negative() {
        let meter = DeliveryMeter::new(1);
        meter.sent(Duration::from_millis(100));
        for _ in 0..200 {
            meter.sent(Duration::from_millis(10));
        }
        let rate = meter.rate().unwrap();
        assert!((rate - 100.0).abs() < 1.0, "{rate}");
        meter.finished(OutboxId::generate());
        assert_eq!(meter.backlog(), 0);
    }

    #[test]
    fn messages_are_counted_by_sender_until_finished_or_their_lifetime_is_over() {
        let meter = DeliveryMeter::new(1);
        let (first, second, other) = (OutboxId::generate(), OutboxId::generate(), OutboxId::generate());
        meter.queued_for(first, "flood", Duration::from_secs(60));
        meter.queued_for(second, "flood", Duration::from_secs(60));
        meter.queued_for(other, "someone", Duration::from_millis(1));
        assert_eq!((meter.queued_by("flood"), meter.backlog()), (2, 3));
        meter.finished(first);
        assert_eq!(meter.queued_by("flood"), 1);
        assert_eq!(meter.queued_by("nobody"), 0);
        // `other` was sent by another instance: forgotten after its lifetime (pruning
        // runs at most once a second; let it run now).
        std::thread::sleep(Duration::from_millis(5));
        meter.senders.lock().unwrap().pruned = None;
        assert_eq!(meter.queued_by("someone"), 0);
        assert_eq!(meter.queued_by("flood"), 1);
    }
}
