//! The retention purge running beside the server: ended sessions and forgotten devices
//! deleted once `SESSION_RETENTION_DAYS` have passed, every `PURGE_INTERVAL_SECONDS`.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use otp_core::service::RecordRetention;

use super::mail_delivery::spawn_until_stopped;

/// The purge loop beside the server.
pub(super) struct PurgeTask {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl PurgeTask {
    /// Purges at once, then every `every` (at least a second).
    pub(super) fn start(retention: Arc<RecordRetention>, every: Duration) -> Self {
        let every = every.max(Duration::from_secs(1));
        let (stop, task) = spawn_until_stopped(async move |stopped| run(&retention, every, stopped).await);
        Self { stop, task }
    }

    /// Stops the loop, abandoning a run in progress (each batch is its own statement:
    /// what it deleted stays deleted, the rest waits for the next start).
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn run(
    retention: &RecordRetention,
    every: Duration,
    stopped: Pin<Box<dyn Future<Output = ()> + Send>>,
) {
    tokio::pin!(stopped);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stopped => break,
            _ = ticks.tick() => {}
        }
        tokio::select! {
            () = &mut stopped => break,
            purged = retention.purge() => match purged {
                Ok(purged) => {
                    metrics::counter!("otp_records_purged_total", "kind" => "session").increment(purged.sessions);
                    metrics::counter!("otp_records_purged_total", "kind" => "device").increment(purged.devices);
                    if purged.sessions + purged.devices > 0 {
                        tracing::info!(
                            sessions = purged.sessions,
                            devices = purged.devices,
                            "ended sessions and forgotten devices past their retention deleted"
                        );
                    }
                }
                Err(error) => tracing::warn!(%error, "retention purge failed; retried at the next run"),
            },
        }
    }
}
