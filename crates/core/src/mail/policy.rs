use std::time::Duration;

/// How the delivery worker paces itself and when it gives up on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Messages claimed per round.
    pub batch_size: usize,
    /// How long a claimed message stays hidden from other workers; longer than one send
    /// can take, so a slow send is not sent twice.
    pub lease: Duration,
    /// Delay before the first retry; each further retry doubles it.
    pub first_retry: Duration,
    /// Longest delay between retries.
    pub max_retry: Duration,
    /// Attempts after which a message is given up on.
    pub max_attempts: u32,
    /// How often an idle process looks for due retries and other instances' messages
    /// (one waiting loop at a time, the poller, does).
    pub idle_poll: Duration,
    /// How long a loop woken by a newly queued message waits for more before it
    /// claims, so a burst is claimed in batches (see [`super::OutboxSignal`]).
    pub gather: Duration,
    /// How long a message without a code (a notice) is worth delivering.
    pub notice_lifetime: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            batch_size: 16,
            lease: Duration::from_secs(120),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            max_attempts: 12,
            idle_poll: Duration::from_secs(1),
            gather: Duration::from_millis(5),
            notice_lifetime: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl DeliveryPolicy {
    /// The delay before the next try after `attempts` failed ones: exponential from
    /// [`first_retry`](Self::first_retry), capped at [`max_retry`](Self::max_retry), with
    /// up to half of it taken off at random so instances do not retry in step.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        let full = self.first_retry.saturating_mul(1 << doublings).min(self.max_retry);
        let jitter = rand::random_range(0.0..0.5);
        full.mul_f64(1.0 - jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let policy = DeliveryPolicy {
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(30),
            ..DeliveryPolicy::default()
        };
        for (attempts, full) in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (40, 30)] {
            let full = Duration::from_secs(full);
            for _ in 0..50 {
                let delay = policy.backoff(attempts);
                assert!(delay <= full && delay >= full / 2, "{attempts}: {delay:?}");
            }
        }
    }
}
