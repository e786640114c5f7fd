//! Builds the HTTP server from settings and components; tests bind it to port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use otp_core::mail::DeliveryWorker;
use tracing_actix_web::TracingLogger;

use crate::client_ip::TrustedProxies;
use crate::config::Settings;
use crate::forwarded;
use crate::metrics::{self, Gauges};
use crate::problem;
use crate::routes;
use crate::state::AppState;
use crate::wiring::Components;

/// The Content-Security-Policy of every answer that sets none of its own (JSON and
/// problem documents): nothing may be loaded, and nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A configuration value is missing or invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be prepared.
    #[error("database: {0}")]
    Database(#[source] otp_core::BoxError),
    /// The address could not be bound.
    #[error("binding {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl StartupError {
    pub(crate) fn database(error: impl Into<otp_core::BoxError>) -> Self {
        Self::Database(error.into())
    }
}

/// A bound, not yet running server, and its mail delivery worker.
pub struct Application {
    port: u16,
    server: Server,
    delivery: Option<MailDelivery>,
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
        let trusted_proxies =
            TrustedProxies::parse(&settings.trusted_proxies).map_err(StartupError::Config)?;
        let gauges = Gauges { pools: components.pools, delivery: components.delivery.clone() };
        let delivery = components.delivery.map(|worker| {
            MailDelivery::start(worker, Duration::from_secs(settings.shutdown_timeout_seconds))
        });
        let state = web::Data::new(AppState {
            service: components.service,
            trusted_proxies,
            probes: components.probes,
            gauges,
        });
        let origins = settings.cors_origins();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(origins.clone()))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        // API answers load nothing; the page and /docs set their own policy.
                        .add((header::CONTENT_SECURITY_POLICY, API_CSP)),
                )
                .wrap(from_fn(metrics::record_request))
                .wrap(TracingLogger::default())
                .wrap(from_fn(forwarded::normalise_forwarded_headers))
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().limit(MAX_JSON_BYTES).error_handler(problem::json_error))
                .app_data(web::PathConfig::default().error_handler(problem::path_error))
                .app_data(web::QueryConfig::default().error_handler(problem::query_error))
                .configure(routes::configure)
                .default_service(web::to(problem::no_route))
        })
        .workers(
            settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        )
        .shutdown_timeout(settings.shutdown_timeout_seconds)
        .client_request_timeout(Duration::from_secs(10))
        .listen(listener)
        .map_err(bind_error)?
        .run();
        Ok(Self { port, server, delivery })
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
        let served = self.server.await;
        if let Some(delivery) = self.delivery {
            delivery.stop().await;
        }
        served
    }
}

/// The delivery worker running beside the server.
struct MailDelivery {
    worker: Arc<DeliveryWorker>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    bound: Duration,
}

impl MailDelivery {
    fn start(worker: Arc<DeliveryWorker>, bound: Duration) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = worker.clone();
        let task = tokio::spawn(async move {
            running
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self { worker, stop, task, bound }
    }

    /// Stops the loop after its current round, then delivers what is due until the
    /// outbox is empty, the mail server is unavailable, or the bound passes. Messages
    /// left in a durable outbox go out from the next instance; an in-memory outbox
    /// loses them, and says how many.
    async fn stop(self) {
        let _ = self.stop.send(());
        let deadline = tokio::time::Instant::now() + self.bound;
        if tokio::time::timeout_at(deadline, self.task).await.is_err() {
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
        match drained {
            Ok(Some(0)) => tracing::info!("mail outbox flushed"),
            Ok(Some(left)) => tracing::warn!(left, "mail left in the outbox at shutdown"),
            Ok(None) => {}
            Err(_) => tracing::warn!("mail outbox not flushed before the shutdown time-out"),
        }
    }
}

/// Browsers may call the API from the listed origins; requests from the server's own
/// origin (a page served by this server) are always allowed.
fn cors(origins: Vec<String>) -> Cors {
    Cors::default()
        .allowed_origin_fn(move |origin, request| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            let same_host = request
                .headers()
                .get(header::HOST)
                .and_then(|host| host.to_str().ok())
                .is_some_and(|host| origin.split_once("://").is_some_and(|(_, rest)| rest == host));
            same_host || origins.iter().any(|allowed| allowed == origin)
        })
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(3600)
}
