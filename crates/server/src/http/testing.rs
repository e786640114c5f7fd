//! Unit-test helpers: application state on the in-memory adapters.

use std::sync::Arc;

use otp_core::crypto::{Argon2Settings, KeyedHasher, Keyring, PasswordHasher, SigningKey};
use otp_core::ports::SystemClock;
use otp_core::{AuthPolicy, EmailAddress, OAuthProviders, Secrets, Services};
use otp_memory::{RecordingMailer, memory_stores};

use super::client_ip::TrustedProxies;
use super::metrics::Gauges;
use super::state::AppState;

/// State on the in-memory adapters, trusting `trusted` as proxies, with `admin_email` as
/// the configured administrator; and the mailer that records what it sends.
pub(crate) fn memory_state(trusted: &str, admin_email: Option<&str>) -> (AppState, Arc<RecordingMailer>) {
    let secrets = Secrets {
        keyed_hasher: KeyedHasher::random(),
        password_hasher: PasswordHasher::new(Argon2Settings::OWASP, 1).unwrap(),
        keyring: Keyring::new(SigningKey::generate().unwrap(), vec![]),
        service_credentials: otp_core::crypto::ServiceCredentials::none(),
    };
    let mailer = Arc::new(RecordingMailer::new());
    let policy = AuthPolicy {
        admin_email: admin_email.map(|address| EmailAddress::parse(address).unwrap()),
        ..AuthPolicy::default()
    };
    let providers = OAuthProviders::new(["google", "github"]);
    let services = Services::new(
        memory_stores(),
        mailer.clone(),
        Arc::new(otp_core::events::EventHub::new()),
        Arc::new(SystemClock),
        &secrets,
        &policy,
        providers,
    )
    .unwrap();
    let state =
        AppState::new(services, TrustedProxies::parse(trusted).unwrap(), Vec::new(), Gauges::default());
    (state, mailer)
}
