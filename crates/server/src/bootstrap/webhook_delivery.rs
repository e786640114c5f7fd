//! The webhook delivery worker running beside the server.

use std::sync::Arc;
use std::time::Duration;

use otp_core::events::WebhookWorker;

use super::mail_delivery::spawn_until_stopped;

/// The webhook worker running beside the server.
pub(super) struct WebhookDelivery {
    worker: Arc<WebhookWorker>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    bound: Duration,
}

impl WebhookDelivery {
    pub(super) fn start(worker: Arc<WebhookWorker>, bound: Duration) -> Self {
        let running = worker.clone();
        let (stop, task) = spawn_until_stopped(async move |stopped| running.run(stopped).await);
        Self { worker, stop, task, bound }
    }

    /// Stops the loop after its current round. Undelivered events stay in the outbox:
    /// a durable one hands them to the next instance; an in-memory one loses them, and
    /// the log says how many.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        if tokio::time::timeout(self.bound, self.task).await.is_err() {
            tracing::warn!("webhook delivery round did not finish before the shutdown time-out");
            return;
        }
        match self.worker.pending().await {
            Some(0) | None => {}
            Some(left) => tracing::warn!(left, "webhook deliveries left in the outbox at shutdown"),
        }
    }
}
