//! The loop every outbox delivery task runs (mail and webhooks): a round whenever
//! something is queued, at once again after a full batch, and, for one idle loop of
//! the process at a time, a round every idle poll.

use std::future::Future;

use super::{DeliveryPolicy, OutboxSignal};
use crate::error::PortError;

/// Runs delivery rounds until `shutdown` completes. `round` answers how many it
/// claimed and deferred; a round in progress is finished before it stops. `what` names
/// the outbox in the log.
///
/// After a full batch with nothing deferred, the next round starts at once. When the
/// batch was not queued in this process (a backlog found by a poll: retries come due,
/// another instance's messages), another loop is woken to help, so such a backlog is
/// worked by more loops with every full batch. Otherwise a loop
/// waits for `signal` (then for the policy's gather window, unless a whole batch is
/// already waiting). One waiting loop of the process, the poller, also wakes after the
/// policy's idle poll, and hands the role to another waiting loop when it goes to work:
/// an idle process asks the outbox once a poll, not once per loop, and a slow round does
/// not hold the polls up.
pub(crate) async fn run_rounds<Round>(
    mut round: impl FnMut() -> Round,
    policy: &DeliveryPolicy,
    signal: &OutboxSignal,
    shutdown: impl Future<Output = ()>,
    what: &'static str,
) where
    Round: Future<Output = Result<(usize, usize), PortError>>,
{
    tokio::pin!(shutdown);
    // What woke this loop for the coming round: nothing at start and straight after a
    // full batch.
    let mut woken = None;
    loop {
        let signalled = signal.claiming();
        // Woken for messages this process queued, but a round started since then (another
        // loop's, going on after a full batch) could take every one of them, by its
        // claim or from the mail hand-off: a round now would find nothing. What that
        // round left over, its loop goes on to take when its batch was full and clean;
        // after a failure (transport or outbox down) the rest waits for the idle poll,
        // as delivery pauses then anyway.
        let late = woken == Some(Wake::Queued) && signalled == 0;
        if !late && full_round(&mut round, policy, what).await {
            // A full batch of messages this process queued has woken loops already
            // (one per batch); one it was not told of is a backlog to share.
            if signalled < policy.batch_size {
                signal.help();
            }
            // Straight on to the next batch, unless a stop was asked for meanwhile. A wake
            // left for a waiting loop that is not there is this loop's to take: it claims
            // what that wake was for itself, and another loop woken by it would claim
            // again for nothing. The yield lets other tasks run even when a round never
            // has to wait.
            woken = None;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = signal.woken() => continue,
                () = tokio::task::yield_now() => continue,
            }
        }
        let Some(wake) = wait(policy, signal, &mut shutdown).await else { break };
        if wake == Wake::Queued && !signal.batch_waiting() {
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(policy.gather) => {}
            }
        }
        woken = Some(wake);
    }
}

/// Runs one round; whether it claimed a full batch and deferred nothing.
async fn full_round<Round>(round: &mut impl FnMut() -> Round, policy: &DeliveryPolicy, what: &str) -> bool
where
    Round: Future<Output = Result<(usize, usize), PortError>>,
{
    match round().await {
        Ok((claimed, 0)) => claimed == policy.batch_size,
        Ok(_) => false,
        Err(error) => {
            tracing::warn!(%error, outbox = what, "outbox unavailable; delivery paused");
            false
        }
    }
}

/// Why a waiting loop goes on to a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// Something was queued in this process: gather more first.
    Queued,
    /// Another loop found a backlog, or the poll came: claim at once.
    Now,
}

/// What ended one wait of [`wait`].
enum Waited {
    Stop,
    Round(Wake),
    PollerLeft,
}

/// Waits until a round is due; `None` when `shutdown` completed first. The loop that
/// takes the poller's role also wakes on the idle poll; when it wakes, it hands the role
/// to another waiting loop, so that one of them always waits on the timer while the
/// poller works its round.
async fn wait(
    policy: &DeliveryPolicy,
    signal: &OutboxSignal,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Option<Wake> {
    loop {
        let polls = signal.take_polling();
        let pause = async {
            if polls {
                tokio::time::sleep(policy.idle_poll).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let woken = tokio::select! {
            biased;
            () = shutdown.as_mut() => Waited::Stop,
            () = pause => Waited::Round(Wake::Now),
            () = signal.woken() => Waited::Round(if signal.take_backlog() { Wake::Now } else { Wake::Queued }),
            () = signal.poller_wanted(), if !polls => Waited::PollerLeft,
        };
        if polls {
            signal.give_polling();
        }
        match woken {
            Waited::Stop => return None,
            Waited::Round(wake) => return Some(wake),
            // The poller left to work: try for its role.
            Waited::PollerLeft => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn policy() -> DeliveryPolicy {
        DeliveryPolicy { batch_size: 4, ..DeliveryPolicy::default() }
    }

    /// What each loop did: rounds run, and full batches claimed.
    struct Loops {
        rounds: Vec<AtomicUsize>,
        full: Vec<AtomicUsize>,
    }

    impl Loops {
        fn rounds(&self) -> Vec<usize> {
            self.rounds.iter().map(|count| count.load(Ordering::SeqCst)).collect()
        }

        fn total(&self) -> usize {
            self.rounds().iter().sum()
        }

        fn full(&self) -> Vec<usize> {
            self.full.iter().map(|count| count.load(Ordering::SeqCst)).collect()
        }
    }

    /// Starts `loops` loops over `signal`. Round `n` (counted across loops) claims and
    /// takes what `plan(n)` says. Returns what they did and the stop sender.
    fn start(
        loops: usize,
        signal: &Arc<OutboxSignal>,
        plan: fn(usize) -> (usize, Duration),
    ) -> (Arc<Loops>, tokio::sync::watch::Sender<bool>) {
        let done = Arc::new(Loops {
            rounds: (0..loops).map(|_| AtomicUsize::new(0)).collect(),
            full: (0..loops).map(|_| AtomicUsize::new(0)).collect(),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let total = Arc::new(AtomicUsize::new(0));
        for index in 0..loops {
            let (signal, done, total, mut stopped) =
                (signal.clone(), done.clone(), total.clone(), stopped.clone());
            tokio::spawn(async move {
                let round = || {
                    let (claimed, takes) = plan(total.fetch_add(1, Ordering::SeqCst));
                    done.rounds[index].fetch_add(1, Ordering::SeqCst);
                    if claimed == policy().batch_size {
                        done.full[index].fetch_add(1, Ordering::SeqCst);
                    }
                    async move {
                        tokio::time::sleep(takes).await;
                        Ok((claimed, 0))
                    }
                };
                let shutdown = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                run_rounds(round, &policy(), &signal, shutdown, "test").await;
            });
        }
        (done, stop)
    }

    #[tokio::test(start_paused = true)]
    async fn a_loop_woken_for_messages_a_later_claim_saw_does_not_claim_again() {
        let signal = Arc::new(OutboxSignal::new(4));
        let (done, stop) = start(1, &signal, |_| (1, Duration::ZERO));
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(done.total(), 1, "the round at start");
        signal.queued(1);
        tokio::time::sleep(Duration::from_millis(1)).await;
        // While the woken loop gathers, another loop's claim starts: it sees the message.
        assert_eq!(signal.claiming(), 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(done.total(), 1, "no round for a message a later claim saw");
        signal.queued(1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(done.total(), 2, "a round for a message no claim has seen");
        stop.send(true).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_process_polls_once_a_poll_whatever_its_number_of_loops() {
        let signal = Arc::new(OutboxSignal::new(4));
        let (done, stop) = start(8, &signal, |_| (0, Duration::ZERO));
        tokio::time::sleep(Duration::from_millis(10_500)).await;
        // One round per loop at start, then one a second.
        assert_eq!(done.total(), 8 + 10, "{:?}", done.rounds());
        signal.queued(1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(done.total(), 8 + 10 + 1, "a queued message still wakes a loop");
        stop.send(true).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn another_loop_polls_while_the_poller_works_a_slow_round() {
        let signal = Arc::new(OutboxSignal::new(4));
        // The first poll's round (the fourth round) takes 10 s.
        let (done, stop) =
            start(3, &signal, |number| (0, Duration::from_secs(if number == 3 { 10 } else { 0 })));
        tokio::time::sleep(Duration::from_millis(6_500)).await;
        // 3 at start, the slow one at 1 s, then one a second from another loop.
        assert_eq!(done.total(), 3 + 6, "{:?}", done.rounds());
        stop.send(true).unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_backlog_found_by_a_poll_is_claimed_by_several_loops() {
        let signal = Arc::new(OutboxSignal::new(4));
        // The four start rounds find nothing; from the first poll on, twelve full
        // batches wait, each taking 10 ms to send.
        let (done, stop) = start(4, &signal, |number| {
            if (4..16).contains(&number) { (4, Duration::from_millis(10)) } else { (0, Duration::ZERO) }
        });
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let helped = done.full().iter().filter(|full| **full > 0).count();
        assert!(helped >= 3, "full batches per loop: {:?}", done.full());
        assert_eq!(done.full().iter().sum::<usize>(), 12);
        stop.send(true).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_loop_that_only_finds_full_batches_still_stops() {
        let signal = Arc::new(OutboxSignal::new(4));
        let (done, stop) = start(1, &signal, |_| (4, Duration::ZERO));
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.send(true).unwrap();
        let stopped = async {
            while Arc::strong_count(&done) > 1 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), stopped).await.expect("the loop stopped");
        assert!(done.rounds()[0] > 1, "it went on from batch to batch");
    }
}
