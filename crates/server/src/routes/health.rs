use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// How long one readiness probe may take before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// `GET /health`: the process is up.
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /ready`: every adapter answers; 503 naming the ones that do not.
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let mut checks = Map::new();
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
        checks.insert(probe.name().to_owned(), Value::from(status));
    }
    let body = json!({ "status": if ready { "ready" } else { "unavailable" }, "checks": checks });
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
