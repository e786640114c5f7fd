//! Probes for load balancers and orchestrators, and the metrics.

pub(crate) mod types;

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpResponse, route, web};

use self::types::{Health, Readiness};
use super::state::AppState;

/// How long one readiness probe may take before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The process is up; it checks nothing else.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "Always, also to `HEAD` (without a body).", body = Health))
)]
#[route("/health", method = "GET", method = "HEAD")]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Whether every backing service answers; each check has 3 seconds.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Every check passed.", body = Readiness),
        (status = 503, description = "A check failed; the body names it.", body = Readiness,
            example = json!({"status": "unavailable", "checks": {"database": "ok", "mail": "ok", "redis": "unavailable"}})),
    )
)]
#[route("/ready", method = "GET", method = "HEAD")]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = BTreeMap::new();
    let mut ready = true;
    for probe in &state.probes {
        let status = match tokio::time::timeout(PROBE_TIMEOUT, probe.check()).await {
            Ok(Ok(())) => "ok",
            Ok(Err(error)) => {
                tracing::warn!(probe = probe.name(), %error, "readiness check failed");
                "unavailable"
            }
            Err(_) => {
                tracing::warn!(probe = probe.name(), "readiness check timed out");
                "unavailable"
            }
        };
        ready &= status == "ok";
        checks.insert(probe.name().to_owned(), status);
    }
    let body = Readiness { status: if ready { "ready" } else { "unavailable" }, checks };
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Counters, latency histograms and gauges in the Prometheus text format (0.0.4); every
/// metric is described in docs/operations.md. Served only on the metrics listener
/// (`METRICS_ADDR`), never on the API port.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.gauges.sample().await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(super::metrics::handle().render())
}
