//! Prometheus metrics: the recorder, the per-request middleware, and the gauges sampled
//! when `/metrics` is scraped. Counters of the domain (codes, rate limits, mail) are
//! recorded by `otp-core` through the `metrics` facade.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use otp_core::mail::DeliveryWorker;

/// Buckets of `http_request_duration_seconds`, from 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0];

/// The process-wide Prometheus recorder, installed on first use. A recorder installed
/// by an embedding application first is left alone: `/metrics` then shows only what this
/// one saw (nothing).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    &LATENCY_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new())
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows only its own");
            }
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// How often the recorder's pending histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the recorder's pending histogram samples into their buckets every
/// [`UPKEEP_EVERY`], on a thread of its own. A recorder built with `build_recorder`
/// keeps every sample recorded until a scrape renders them, so without this a server
/// nobody scrapes (or `METRICS_ADDR=off`) grows by every request's duration sample.
fn spawn_upkeep(handle: PrometheusHandle) {
    let upkeep = move || {
        loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        }
    };
    if let Err(error) = std::thread::Builder::new().name("metrics-upkeep".to_owned()).spawn(upkeep) {
        tracing::error!(%error, "metrics upkeep thread not started: histogram samples pile up until scraped");
    }
}

/// Counts each request and times it, by method, route pattern (never the raw path, so
/// ids do not multiply the series) and status.
pub async fn record_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let response = next.call(request).await?;
    // As documented (`/auth/sessions/{id}`), without a segment's regular expression.
    let route = response
        .request()
        .match_pattern()
        .map_or_else(|| "unmatched".to_owned(), |pattern| super::openapi::openapi_path(&pattern));
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    Ok(response)
}

/// How a connection pool is used right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// The most connections it opens.
    pub max: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections nobody holds.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// A connection pool whose usage `/metrics` reports; the bootstrap implements it for
/// the pools it builds, so this layer never names an adapter.
pub trait PoolGauge: Send + Sync + std::fmt::Debug {
    /// The pool's name in the `pool` label (`postgres`, `redis`).
    fn name(&self) -> &'static str;
    /// Its usage now.
    fn usage(&self) -> PoolUsage;
}

/// What `/metrics` samples at each scrape, besides the recorder's counters.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The pools whose usage is reported.
    pub pools: Vec<Arc<dyn PoolGauge>>,
    /// The delivery worker whose outbox depth is reported.
    pub delivery: Option<Arc<DeliveryWorker>>,
}

impl Gauges {
    /// Sets the pool and outbox gauges to their current values.
    pub async fn sample(&self) {
        for pool in &self.pools {
            let (name, PoolUsage { max, size, available, waiting }) = (pool.name(), pool.usage());
            let gauge = |state: &'static str, value: usize| {
                metrics::gauge!("otp_pool_connections", "pool" => name, "state" => state).set(value as f64);
            };
            gauge("in_use", size.saturating_sub(available));
            gauge("idle", available);
            gauge("max", max);
            metrics::gauge!("otp_pool_waiting", "pool" => name).set(waiting as f64);
        }
        if let Some(delivery) = &self.delivery
            && let Some(depth) = delivery.pending().await
        {
            metrics::gauge!("otp_mail_outbox_depth").set(depth as f64);
        }
    }
}
