//! The mail delivery loops running beside the server (`MAIL_WORKERS` of them), and
//! their flush at shutdown.

use std::sync::Arc;
use std::time::Duration;

use otp_core::mail::DeliveryWorker;

/// Spawns `run`, handing it a future that completes when the returned sender is used
/// (or dropped): how each delivery loop beside the server is started and stopped.
pub(super) fn spawn_until_stopped<Fut>(
    run: impl FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopped = Box::pin(async move {
        let _ = stopped.await;
    });
    (stop, tokio::spawn(run(stopped)))
}

/// How long releasing the hand-off may add to a shutdown (one statement a message).
const RELEASE_BOUND: Duration = Duration::from_secs(2);

/// The delivery loops running beside the server.
pub(super) struct MailDelivery {
    worker: Arc<DeliveryWorker>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    bound: Duration,
}

impl MailDelivery {
    /// Starts one loop per worker the meter counts (`MAIL_WORKERS`).
    pub(super) fn start(worker: Arc<DeliveryWorker>, bound: Duration) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks = (0..worker.meter().workers())
            .map(|_| {
                let running = worker.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    running
                        .run(async move {
                            let _ = stopped.wait_for(|stop| *stop).await;
                        })
                        .await;
                })
            })
            .collect();
        Self { worker, stop, tasks, bound }
    }

    /// Stops the loop after its current round, then delivers what is due until the
    /// outbox is empty, the mail server is unavailable, or the bound passes. Messages
    /// left in a durable outbox go out from the next instance (those still handed over
    /// are released to it first); an in-memory outbox loses them, and says how many.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + self.bound;
        let all_stopped = async {
            for task in self.tasks {
                let _ = task.await;
            }
        };
        if tokio::time::timeout_at(deadline, all_stopped).await.is_err() {
            tracing::warn!("mail delivery round did not finish before the shutdown time-out");
            return;
        }
        let drained = tokio::time::timeout_at(deadline, async {
            loop {
                match self.worker.deliver_due().await {
                    Ok(round) if round.claimed > 0 && round.deferred == 0 => continue,
                    Ok(_) => return self.worker.pending().await,
                    Err(error) => {
                        tracing::warn!(%error, "mail outbox unavailable at shutdown");
                        return None;
                    }
                }
            }
        })
        .await;
        // What the loops were handed but did not get to (the mail server is down, or
        // time ran out) is made due at once for the next instance, rather than left
        // leased to this one for the rest of its lease.
        let release = tokio::time::timeout(RELEASE_BOUND, self.worker.release_handed()).await;
        match release {
            Ok(Ok(0)) => {}
            Ok(Ok(released)) => {
                tracing::warn!(released, "handed-over mail released to the outbox at shutdown")
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "handed-over mail not released; it is due when its lease ends")
            }
            Err(_) => tracing::warn!(
                "handed-over mail not all released in time; the rest is due when its lease ends"
            ),
        }
        match drained {
            Ok(Some(0)) => tracing::info!("mail outbox flushed"),
            Ok(Some(left)) => tracing::warn!(left, "mail left in the outbox at shutdown"),
            Ok(None) => {}
            Err(_) => tracing::warn!("mail outbox not flushed before the shutdown time-out"),
        }
    }
}
