//! Builds the HTTP server from settings and components; tests bind it to port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::client_ip::TrustedProxies;
use crate::config::Settings;
use crate::forwarded;
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

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
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
        let state = web::Data::new(AppState {
            service: components.service,
            trusted_proxies,
            probes: components.probes,
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
        Ok(Self { port, server })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that can stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM stop it gracefully).
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
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
        .allowed_methods([Method::GET, Method::POST, Method::DELETE])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(3600)
}
