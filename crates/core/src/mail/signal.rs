use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Notify;

/// Wakes an outbox's delivery loops when something is queued, so that a burst is
/// claimed in batches instead of one claim per message.
///
/// The first message queued since the last claim wakes one loop, which waits
/// [`DeliveryPolicy::gather`](super::DeliveryPolicy::gather) for more before it claims;
/// each further batch's worth wakes one more loop, which claims at once. Without this,
/// every message woke a loop of its own: under load each claim (a write to the outbox)
/// carried one or two messages, and the claims cost more than the sends.
///
/// Counts only what this process queued; other processes' messages are found by the
/// idle poll of one waiting loop, the poller. Shared by the queue side
/// ([`Self::queued`]) and the loops.
#[derive(Debug)]
pub struct OutboxSignal {
    notify: Notify,
    unclaimed: AtomicUsize,
    batch_size: usize,
    /// Whether a waiting loop already polls on a timer (see [`Self::take_polling`]).
    polling: AtomicBool,
    /// Wakes a waiting loop to take the poller's role when the poller leaves it.
    poller_left: Notify,
    /// Whether a loop asked for help with a backlog (see [`Self::help`]).
    backlog: AtomicBool,
}

impl OutboxSignal {
    /// A signal for loops that claim up to `batch_size` messages a round (at least 1).
    pub fn new(batch_size: usize) -> Self {
        Self {
            notify: Notify::new(),
            unclaimed: AtomicUsize::new(0),
            batch_size: batch_size.max(1),
            polling: AtomicBool::new(false),
            poller_left: Notify::new(),
            backlog: AtomicBool::new(false),
        }
    }

    /// `count` messages were stored in the outbox (call after they are committed, so a
    /// loop that wakes can claim them).
    pub fn queued(&self, count: usize) {
        let before = self.unclaimed.fetch_add(count, Ordering::AcqRel);
        let after = before.saturating_add(count);
        if before == 0 || after / self.batch_size > before / self.batch_size {
            self.notify.notify_one();
        }
    }

    /// Starts a claim: what was queued until now will be visible to it, so the count
    /// starts again from zero and the next message queued wakes a loop. Answers how many
    /// this process queued since the last claim started.
    pub(crate) fn claiming(&self) -> usize {
        self.unclaimed.swap(0, Ordering::AcqRel)
    }

    /// Whether a whole batch is already waiting (no reason to gather).
    pub(crate) fn batch_waiting(&self) -> bool {
        self.unclaimed.load(Ordering::Acquire) >= self.batch_size
    }

    /// Completes when [`Self::queued`] or [`Self::help`] wakes this loop.
    pub(crate) async fn woken(&self) {
        self.notify.notified().await;
    }

    /// A loop that claimed a full batch it was not told of (a backlog found by a poll)
    /// asks for one more loop to help with the rest; the loop woken claims at once
    /// ([`Self::take_backlog`]). Batches queued in this process wake loops of their own
    /// ([`Self::queued`]).
    pub(crate) fn help(&self) {
        self.backlog.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Whether a loop asked for help since this was last asked (a woken loop then
    /// claims without gathering).
    pub(crate) fn take_backlog(&self) -> bool {
        self.backlog.swap(false, Ordering::AcqRel)
    }

    /// Makes the calling loop the poller, the one waiting loop that also wakes on the
    /// idle poll's timer, when no other is; answers whether it is. A poller gives the
    /// role back with [`Self::give_polling`] as soon as it wakes.
    pub(crate) fn take_polling(&self) -> bool {
        self.polling.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The poller woke: another waiting loop is woken to take the role, so the timer
    /// keeps running while the former poller works.
    pub(crate) fn give_polling(&self) {
        self.polling.store(false, Ordering::Release);
        self.poller_left.notify_one();
    }

    /// Completes when the poller gives up its role (for a waiting loop that is not it).
    pub(crate) async fn poller_wanted(&self) {
        self.poller_left.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Whether a loop waiting now would be woken at once (a timeout polls its future
    /// before it looks at the time).
    async fn wakes(signal: &OutboxSignal) -> bool {
        tokio::time::timeout(Duration::ZERO, signal.woken()).await.is_ok()
    }

    #[tokio::test]
    async fn the_first_message_since_a_claim_and_every_full_batch_wake_a_loop() {
        let signal = OutboxSignal::new(4);
        assert!(!wakes(&signal).await, "nothing queued");
        signal.queued(1);
        assert!(wakes(&signal).await, "the first message");
        for _ in 0..2 {
            signal.queued(1);
        }
        assert!(!wakes(&signal).await, "messages 2 and 3 gather for the woken loop");
        assert!(!signal.batch_waiting());
        signal.queued(1);
        assert!(signal.batch_waiting());
        assert!(wakes(&signal).await, "a full batch wakes another loop");
        signal.queued(9);
        assert!(wakes(&signal).await, "several batches at once wake a loop");
    }

    #[tokio::test]
    async fn a_claim_starts_the_count_again() {
        let signal = OutboxSignal::new(16);
        signal.queued(1);
        assert!(wakes(&signal).await);
        signal.queued(1);
        assert!(!wakes(&signal).await);
        let _ = signal.claiming();
        signal.queued(1);
        assert!(wakes(&signal).await, "the first message after a claim wakes a loop again");
    }

    #[test]
    fn a_batch_size_of_zero_counts_as_one() {
        let signal = OutboxSignal::new(0);
        signal.queued(1);
        assert!(signal.batch_waiting());
    }
}
