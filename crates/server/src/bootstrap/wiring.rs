//! Chooses and builds the adapters and secrets the settings describe, and the services
//! on them.

use std::sync::Arc;

use otp_core::Services;
use otp_core::events::{EventHub, WebhookWorker};
use otp_core::mail::DeliveryWorker;
use otp_core::ports::{Clock, Mailer, Probe, SystemClock};
use otp_core::service::RecordRetention;
use otp_mail::MailRenderer;

use super::error::StartupError;
use super::mail::{build_mail, build_renderer};
use super::providers::build_oauth_providers;
use super::secrets::build_secrets;
use super::settings::{Environment, Settings};
use super::storage::build_storage;
use super::webhooks::build_events;
use crate::http::metrics::PoolGauge;

/// The services, what `/ready` checks, and the mail delivery worker.
#[derive(Debug)]
pub struct Components {
    /// The capability services on their adapters.
    pub services: Services,
    /// Readiness checks of the adapters.
    pub probes: Vec<Arc<dyn Probe>>,
    /// Sends queued mail; runs beside the server and stops after it. `None` when the
    /// services' mailer delivers by itself (an [`Overrides::mailer`]).
    pub delivery: Option<Arc<DeliveryWorker>>,
    /// The connection pools whose usage `/metrics` reports.
    pub pools: Vec<Arc<dyn PoolGauge>>,
    /// The auth events the services publish: an embedder subscribes here.
    pub events: Arc<EventHub>,
    /// Delivers auth events to `WEBHOOK_URLS`; runs beside the server. `None` without
    /// webhooks.
    pub webhooks: Option<Arc<WebhookWorker>>,
    /// The mail's templates and message files (also the page's texts and the languages
    /// a request can ask for).
    pub renderer: Arc<MailRenderer>,
    /// Deletes ended sessions and forgotten devices past `SESSION_RETENTION_DAYS`; runs
    /// beside the server every `PURGE_INTERVAL_SECONDS`. `None` when they are kept
    /// forever.
    pub retention: Option<Arc<RecordRetention>>,
}

/// Adapters an embedding application or a test supplies instead of those the settings
/// choose. Everything else is built exactly as for the binary.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Time, instead of the system clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// A mailer that delivers by itself, instead of the outbox and its worker.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// The transport the delivery workers send through, instead of SMTP or the mail
    /// folder; the outbox and its workers stay (ignored when `mailer` is set).
    pub transport: Option<Arc<dyn Mailer>>,
}

/// Builds the components for `settings`: PostgreSQL and Redis when their URLs are set,
/// the in-memory stores otherwise; mail through the outbox, sent over SMTP when
/// `SMTP_SERVER` is set, else written to the mail folder; `overrides` replace the
/// clock or the mailer.
///
/// # Errors
/// [`StartupError`] when a key is invalid, production lacks what it requires, or
/// start-up migrations fail.
pub async fn build_components(settings: &Settings, overrides: Overrides) -> Result<Components, StartupError> {
    if settings.app_env == Environment::Production {
        require_production_settings(settings)?;
    }
    let secrets = build_secrets(settings)?;
    let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let storage = build_storage(settings).await?;
    let mut probes = storage.probes;
    // Built (and every template checked) even when a test supplies the mailer.
    let renderer = Arc::new(build_renderer(settings)?);
    let (mailer, delivery) = match overrides.mailer {
        Some(mailer) => (mailer, None),
        None => {
            let mail = build_mail(
                settings,
                storage.outbox,
                &secrets.keyed_hasher,
                clock.clone(),
                overrides.transport,
                renderer.clone(),
            )?;
            probes.extend(mail.probe);
            (mail.mailer, Some(mail.worker))
        }
    };
    let policy = settings.policy().map_err(|error| StartupError::Config(error.to_string()))?;
    let providers = build_oauth_providers(settings)?;
    let events = build_events(settings, storage.webhook_outbox)?;
    let retention = settings.record_retention().map(|keep| {
        Arc::new(RecordRetention::new(
            storage.stores.sessions.clone(),
            storage.stores.devices.clone(),
            clock.clone(),
            keep,
        ))
    });
    let services =
        Services::new(storage.stores, mailer, events.hub.clone(), clock, &secrets, &policy, providers)
            .map_err(|error| StartupError::Config(error.to_string()))?;
    Ok(Components {
        services,
        probes,
        delivery,
        pools: storage.pools,
        events: events.hub,
        webhooks: events.worker,
        renderer,
        retention,
    })
}

fn require_production_settings(settings: &Settings) -> Result<(), StartupError> {
    let missing: Vec<&str> = [
        ("DATABASE_URL", settings.database_url.is_none()),
        ("REDIS_URL or REDIS_CLUSTER_NODES", !settings.uses_redis()),
        ("SMTP_SERVER", settings.smtp_server.is_none()),
        ("SECRET_KEY", settings.secret_key.is_none()),
        ("TOKEN_SIGNING_KEY", settings.token_signing_key.is_none()),
    ]
    .into_iter()
    .filter_map(|(key, absent)| absent.then_some(key))
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StartupError::Config(format!(
            "APP_ENV=production requires real adapters and configured secrets; missing: {}",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn production_refuses_the_embedded_default() {
        let settings = Settings { app_env: Environment::Production, ..Settings::default() };
        let error = build_components(&settings, Overrides::default()).await.unwrap_err().to_string();
        assert!(
            error.contains("DATABASE_URL")
                && error.contains("SECRET_KEY")
                && error.contains("TOKEN_SIGNING_KEY"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn smtp_settings_are_checked_at_start_up() {
        let settings = Settings {
            smtp_server: Some("smtp.example.com".into()),
            smtp_tls: Some("ssl".into()),
            ..Settings::default()
        };
        let error = build_components(&settings, Overrides::default()).await.unwrap_err();
        assert!(error.to_string().contains("SMTP_TLS"));
    }

    #[tokio::test]
    async fn bad_keys_are_reported_by_name() {
        let settings = Settings { token_signing_key: Some("k4.secret.nope".into()), ..Settings::default() };
        let error = build_components(&settings, Overrides::default()).await.unwrap_err();
        assert!(error.to_string().contains("TOKEN_SIGNING_KEY"));
        let settings = Settings { secret_key: Some("short".into()), ..Settings::default() };
        let error = build_components(&settings, Overrides::default()).await.unwrap_err();
        assert!(error.to_string().contains("SECRET_KEY"));
    }
}
