//! Auth events: the hub the services publish to, and, when `WEBHOOK_URLS` is set, the
//! webhook outbox it queues into and the worker that delivers from it, signed with
//! `WEBHOOK_SECRET`.

use std::sync::Arc;
use std::time::Duration;

use otp_core::crypto::WebhookSigner;
use otp_core::events::{EventHub, WebhookQueue, WebhookWorker};
use otp_core::mail::{DeliveryPolicy, OutboxSignal};
use otp_core::ports::{SystemClock, WebhookOutbox};
use otp_webhooks::{HttpWebhookSender, parse_endpoints};
use secrecy::ExposeSecret;

use super::error::StartupError;
use super::settings::Settings;

/// The event hub and, with webhooks configured, their delivery worker.
#[derive(Debug)]
pub struct EventComponents {
    /// What the services publish to; subscribe to it for events in process.
    pub hub: Arc<EventHub>,
    /// Delivers queued events to the webhook endpoints; `None` without `WEBHOOK_URLS`.
    pub worker: Option<Arc<WebhookWorker>>,
}

/// Builds the hub, queueing into `outbox` for the endpoints of `WEBHOOK_URLS`.
///
/// # Errors
/// [`StartupError::Config`] for an endpoint that is not an http(s) URL, or endpoints
/// without a valid `WEBHOOK_SECRET`.
pub fn build_events(
    settings: &Settings,
    outbox: Arc<dyn WebhookOutbox>,
) -> Result<EventComponents, StartupError> {
    let endpoints = parse_endpoints(&settings.webhook_urls)
        .map_err(|error| StartupError::Config(format!("WEBHOOK_URLS: {error}")))?;
    if endpoints.is_empty() {
        return Ok(EventComponents { hub: Arc::new(EventHub::new()), worker: None });
    }
    let secret = settings.webhook_secret.as_ref().ok_or_else(|| {
        StartupError::Config(
            "WEBHOOK_URLS is set without WEBHOOK_SECRET (`whsec_` and base64; `otp-server keygen` prints one)"
                .to_owned(),
        )
    })?;
    let signer = WebhookSigner::from_secret(secret.expose_secret())
        .map_err(|error| StartupError::Config(format!("WEBHOOK_SECRET: {error}")))?;
    let timeout = Duration::from_secs(settings.webhook_timeout_seconds.max(1));
    let sender = HttpWebhookSender::new(timeout).map_err(|error| StartupError::Config(error.to_string()))?;
    tracing::info!(endpoints = endpoints.len(), "auth events delivered to webhooks");
    // Real time, whatever clock the services run on: receivers check the timestamp.
    let clock = Arc::new(SystemClock);
    let policy = webhook_policy(settings);
    let signal = Arc::new(OutboxSignal::new(policy.batch_size));
    let queue = WebhookQueue::new(outbox.clone(), endpoints, clock.clone(), signal.clone());
    let worker = WebhookWorker::new(outbox, Arc::new(sender), signer, clock, policy, signal);
    Ok(EventComponents { hub: Arc::new(EventHub::with_webhooks(queue)), worker: Some(Arc::new(worker)) })
}

/// The retry budget from `WEBHOOK_MAX_ATTEMPTS` and `WEBHOOK_RETRY_MAX_SECONDS`: the
/// first retry after a second, doubling up to the cap.
pub fn webhook_policy(settings: &Settings) -> DeliveryPolicy {
    let defaults = DeliveryPolicy::default();
    let max_retry = Duration::from_secs(settings.webhook_retry_max_seconds.max(1));
    DeliveryPolicy {
        batch_size: 32,
        max_attempts: settings.webhook_max_attempts.max(1),
        max_retry,
        first_retry: defaults.first_retry.min(max_retry),
        // One request is bounded by its time-out; the lease outlasts it.
        lease: defaults.lease.max(Duration::from_secs(settings.webhook_timeout_seconds.saturating_mul(4))),
        ..defaults
    }
}

#[cfg(test)]
mod tests {
    use otp_memory::MemoryWebhookOutbox;

    use super::*;

    fn build(settings: Settings) -> Result<EventComponents, StartupError> {
        build_events(&settings, Arc::new(MemoryWebhookOutbox::new()))
    }

    #[test]
    fn no_urls_means_no_worker() {
        assert!(build(Settings::default()).unwrap().worker.is_none());
    }

    #[test]
    fn urls_need_a_valid_secret() {
        let urls = || Settings { webhook_urls: "https://app.example/hooks".into(), ..Settings::default() };
        assert!(build(urls()).unwrap_err().to_string().contains("WEBHOOK_SECRET"));
        let bad = Settings { webhook_secret: Some("plain".into()), ..urls() };
        assert!(build(bad).unwrap_err().to_string().contains("WEBHOOK_SECRET"));
        let good = Settings { webhook_secret: Some(WebhookSigner::generate_secret().into()), ..urls() };
        assert!(build(good).unwrap().worker.is_some());
        let not_http = Settings { webhook_urls: "ftp://app.example".into(), ..Settings::default() };
        assert!(build(not_http).unwrap_err().to_string().contains("WEBHOOK_URLS"));
    }

    #[test]
    fn the_retry_budget_follows_the_settings() {
        let settings =
            Settings { webhook_max_attempts: 5, webhook_retry_max_seconds: 2, ..Settings::default() };
        let policy = webhook_policy(&settings);
        assert_eq!((policy.max_attempts, policy.max_retry), (5, Duration::from_secs(2)));
        assert!(policy.first_retry <= policy.max_retry);
    }
}
