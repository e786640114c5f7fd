//! What every handler shares.

use std::sync::Arc;

use otp_core::AuthService;
use otp_core::ports::Probe;

use crate::client_ip::TrustedProxies;
use crate::metrics::Gauges;

/// Shared application state.
#[derive(Debug)]
pub struct AppState {
    /// The use cases.
    pub service: Arc<AuthService>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// What `/ready` checks.
    pub probes: Vec<Arc<dyn Probe>>,
    /// What `/metrics` samples at each scrape.
    pub gauges: Gauges,
}
