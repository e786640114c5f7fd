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
/// After a full batch with nothing deferred, the next round starts at once, and another
/// loop is woken to help: a backlog found by a poll (retries come due, another
/// instance's messages) is worked by more loops with every full batch. Otherwise a loop
/// waits for `signal` (then for the policy's gather window, unless a whole batch is
/// already waiting). One waiting loop of the process, the poller, also wakes after the
/// policy's idle poll: an idle process asks the outbox once a poll, not once per loop.
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
    loop {
        signal.claiming();
        let full = match round().await {
            Ok((claimed, 0)) => claimed == policy.batch_size,
            Ok(_) => false,
            Err(error) => {
                tracing::warn!(%error, outbox = what, "outbox unavailable; delivery paused");
                false
            }
        };
        if full {
            signal.help();
            // Straight on to the next batch, unless a stop was asked for meanwhile; the
            // yield lets other tasks run even when a round never has to wait.
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::task::yield_now() => continue,
            }
        }
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
            () = &mut shutdown => {
                if polls {
                    signal.give_polling();
                }
                break;
            }
            () = pause => false,
            () = signal.woken() => true,
        };
        if polls {
            signal.give_polling();
        }
        if woken && !signal.batch_waiting() {
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(policy.gather) => {}
            }
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

    /// Starts `loops` loops whose rounds each count in `rounds[loop]` and claim what
    /// `claims` says for the round number (counted across loops); returns the stop
    /// sender.
    fn start(
        loops: usize,
        signal: &Arc<OutboxSignal>,
        rounds: &Arc<Vec<AtomicUsize>>,
        claims: fn(usize) -> usize,
    ) -> tokio::sync::watch::Sender<bool> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let total = Arc::new(AtomicUsize::new(0));
        for index in 0..loops {
            let (signal, rounds, total, mut stopped) =
                (signal.clone(), rounds.clone(), total.clone(), stopped.clone());
            tokio::spawn(async move {
                let round = || {
                    rounds[index].fetch_add(1, Ordering::SeqCst);
                    let number = total.fetch_add(1, Ordering::SeqCst);
                    async move { Ok((claims(number), 0)) }
                };
                let shutdown = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                run_rounds(round, &policy(), &signal, shutdown, "test").await;
            });
        }
        stop
    }

    fn counts(rounds: &[AtomicUsize]) -> Vec<usize> {
        rounds.iter().map(|count| count.load(Ordering::SeqCst)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_process_polls_once_a_poll_whatever_its_number_of_loops() {
        let signal = Arc::new(OutboxSignal::new(4));
        let rounds = Arc::new((0..8).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
        let stop = start(8, &signal, &rounds, |_| 0);
        tokio::time::sleep(Duration::from_millis(10_500)).await;
        let total: usize = counts(&rounds).iter().sum();
        // One round per loop at start, then one a second.
        assert_eq!(total, 8 + 10, "{:?}", counts(&rounds));
        signal.queued(1);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(counts(&rounds).iter().sum::<usize>(), 8 + 10 + 1, "a queued message still wakes a loop");
        stop.send(true).unwrap();
    }

    #[tokio::test]
    async fn a_loop_that_only_finds_full_batches_still_stops() {
        let signal = Arc::new(OutboxSignal::new(4));
        let rounds = Arc::new(vec![AtomicUsize::new(0)]);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let running = {
            let (signal, rounds, mut stopped) = (signal.clone(), rounds.clone(), stopped.clone());
            tokio::spawn(async move {
                let round = || {
                    rounds[0].fetch_add(1, Ordering::SeqCst);
                    async { Ok((4, 0)) }
                };
                let shutdown = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                run_rounds(round, &policy(), &signal, shutdown, "test").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), running).await.expect("stopped").unwrap();
        assert!(counts(&rounds)[0] > 1, "it went on from batch to batch");
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_found_by_a_poll_wakes_more_loops() {
        let signal = Arc::new(OutboxSignal::new(4));
        let rounds = Arc::new((0..4).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
        // The four start rounds find nothing; the poll after them finds a backlog of
        // eight full batches.
        let stop = start(4, &signal, &rounds, |number| if (4..12).contains(&number) { 4 } else { 0 });
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let busy = counts(&rounds).iter().filter(|count| **count > 1).count();
        assert!(busy >= 3, "the backlog was shared: {:?}", counts(&rounds));
        stop.send(true).unwrap();
    }
}
