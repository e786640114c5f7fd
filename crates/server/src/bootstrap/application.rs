//! Builds the HTTP server from settings and components; tests bind it to port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use super::error::StartupError;
use super::mail_delivery::MailDelivery;
use super::purge::PurgeTask;
use super::settings::Settings;
use super::webhook_delivery::WebhookDelivery;
use super::wiring::Components;
use crate::http::client_ip::{ForwardingHeader, TrustedProxies};
use crate::http::metrics::{self, Gauges};
use crate::http::{self, AppState, RequestSpan, forwarded};

/// A bound, not yet running server, its metrics listener and its mail delivery worker.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    delivery: Option<MailDelivery>,
    revocations: RevocationListener,
    webhooks: Option<WebhookDelivery>,
    purge: Option<PurgeTask>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Binds `HOST:PORT` (port 0 picks a free one) and prepares the server.
    ///
    /// # Errors
    /// [`StartupError`] when the address cannot be bound or a setting is invalid.
    pub fn build(settings: &Settings, components: Components) -> Result<Self, StartupError> {
        let address = format!("{}:{}", settings.host, settings.port);
        let bind_error = |source| StartupError::Bind { address: address.clone(), source };
        let listener = TcpListener::bind(&address).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let trusted_proxies = TrustedProxies::parse(&settings.trusted_proxies)
            .and_then(|proxies| {
                ForwardingHeader::parse(&settings.trusted_proxy_header).map(|header| proxies.reading(header))
            })
            .map_err(StartupError::Config)?;
        // Installed before the first request, so no early count is lost.
        metrics::handle();
        let gauges = Gauges { pools: components.pools, delivery: components.delivery.clone() };
        let bound = Duration::from_secs(settings.shutdown_timeout_seconds);
        let delivery = components.delivery.map(|worker| MailDelivery::start(worker, bound));
        let webhooks = components.webhooks.map(|worker| WebhookDelivery::start(worker, bound));
        let every = Duration::from_secs(settings.purge_interval_seconds);
        let purge = components.retention.map(|retention| PurgeTask::start(retention, every));
        let revocations = RevocationListener(tokio::spawn(components.services.revocations.follow()));
        let state = web::Data::new(
            AppState::new(components.services, trusted_proxies, components.probes, gauges)
                .with_mail(components.renderer),
        );
        let metrics = bind_metrics(&settings.metrics_addr, state.clone())?;
        let origins = settings.cors_origins();
        let hsts = settings.hsts();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(http::cors(origins.clone()))
                .wrap(http::security_headers(hsts))
                .wrap(from_fn(metrics::record_request))
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(from_fn(forwarded::normalise_forwarded_headers))
                .configure(http::app(state.clone()))
        })
        .workers(
            settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        )
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        .client_request_timeout(Duration::from_secs(10))
        .listen(listener)
        .map_err(bind_error)?
        .run();
        Ok(Self { port, server, metrics, delivery, webhooks, revocations, purge })
    }

    /// The bound port of the metrics listener, unless `METRICS_ADDR` is empty.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that can stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM stop it gracefully: no new connections,
    /// in-flight requests finish within `SHUTDOWN_TIMEOUT_SECONDS`), then stops the mail
    /// worker and sends what the outbox still holds, within the same bound.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let served = self.server.await;
        if let Some((handle, running)) = metrics {
            handle.stop(true).await;
            drop(running.await);
        }
        if let Some(delivery) = self.delivery {
            delivery.stop().await;
        }
        if let Some(webhooks) = self.webhooks {
            webhooks.stop().await;
        }
        if let Some(purge) = self.purge {
            purge.stop().await;
        }
        drop(self.revocations);
        served
    }
}

/// Feeds revocations from the other instances to this one's token cache, from
/// [`Application::build`] until the application stops or is dropped.
struct RevocationListener(tokio::task::JoinHandle<()>);

impl Drop for RevocationListener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Binds the metrics listener at `address` (empty: none), serving only `GET /metrics`,
/// off the public API port.
fn bind_metrics(address: &str, state: web::Data<AppState>) -> Result<Option<(u16, Server)>, StartupError> {
    let address = address.trim();
    // `off` in the environment (where an empty value counts as unset), or empty in a file.
    if address.is_empty() || address.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bind_error = |source| StartupError::Bind { address: address.to_owned(), source };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).route("/metrics", web::get().to(http::operations::metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(bind_error)?
    .run();
    Ok(Some((port, server)))
}
