//! What the service-level tests share: the services over given stores and hasher,
//! mail recorded.

use std::sync::Arc;

use otp_core::crypto::{KeyedHasher, Keyring, PasswordHasher, ServiceCredentials, SigningKey};
use otp_core::events::EventHub;
use otp_core::ports::SystemClock;
use otp_core::{AuthPolicy, OAuthProviders, Secrets, Services, Stores};
use otp_memory::RecordingMailer;

/// The services over `stores`, hashing with `password_hasher`, on the default policy
/// and the system clock, without OAuth providers; and the mailer that records what
/// they send.
pub fn services(stores: Stores, password_hasher: PasswordHasher) -> (Services, Arc<RecordingMailer>) {
    let secrets = Secrets {
        keyed_hasher: KeyedHasher::random(),
        password_hasher,
        keyring: Keyring::new(SigningKey::generate().expect("a signing key"), vec![]),
        service_credentials: ServiceCredentials::none(),
    };
    let mailer = Arc::new(RecordingMailer::new());
    let services = Services::new(
        stores,
        mailer.clone(),
        Arc::new(EventHub::new()),
        Arc::new(SystemClock),
        &secrets,
        &AuthPolicy::default(),
        OAuthProviders::new([] as [&str; 0]),
    )
    .expect("the services start");
    (services, mailer)
}
