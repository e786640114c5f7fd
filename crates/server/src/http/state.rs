//! What every handler shares.

use std::sync::Arc;

use otp_core::ports::Probe;
use otp_core::{AccountService, AdminService, OAuthSignIn, Services, SessionService, SignInService};
use otp_mail::{MailRenderer, RendererConfig};

use super::client_ip::TrustedProxies;
use super::metrics::Gauges;

/// Shared application state: the capability services and what the edge needs.
#[derive(Debug)]
pub struct AppState {
    /// Sign-in by code and by password.
    pub sign_in: Arc<SignInService>,
    /// Token checks, refresh, logout, the caller's sessions.
    pub sessions: Arc<SessionService>,
    /// Sign-in with OAuth providers.
    pub oauth: Arc<OAuthSignIn>,
    /// Account administration and the audit log.
    pub admin: Arc<AdminService>,
    /// The owner's changes to their own account.
    pub account: Arc<AccountService>,
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// What `/ready` checks.
    pub probes: Vec<Arc<dyn Probe>>,
    /// What `/metrics` samples at each scrape.
    pub gauges: Gauges,
    /// The mail's message files: which languages a request can ask for, and the page's
    /// texts. Without it, requests ask for no language and the page shows its keys.
    pub mail: Option<Arc<MailRenderer>>,
}

impl AppState {
    /// State for `services`, with the edge's settings.
    pub fn new(
        services: Services,
        trusted_proxies: TrustedProxies,
        probes: Vec<Arc<dyn Probe>>,
        gauges: Gauges,
    ) -> Self {
        Self {
            sign_in: services.sign_in,
            sessions: services.sessions,
            oauth: services.oauth,
            admin: services.admin,
            account: services.account,
            trusted_proxies,
            probes,
            gauges,
            // The built-in texts until `with_mail` gives the configured ones.
            mail: MailRenderer::new(RendererConfig::new("OTP Auth")).ok().map(Arc::new),
        }
    }

    /// The same state with the mail's languages and texts.
    #[must_use]
    pub fn with_mail(mut self, renderer: Arc<MailRenderer>) -> Self {
        self.mail = Some(renderer);
        self
    }
}
