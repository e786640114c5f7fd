//! Chooses and builds the adapters and secrets the settings describe.

use std::sync::Arc;

use otp_core::crypto::{Argon2Settings, KeyedHasher, Keyring, PasswordHasher, SigningKey, VerifyingKey};
use otp_core::mail::DeliveryWorker;
use otp_core::ports::{Clock, Probe, SystemClock};
use otp_core::{AuthService, Secrets};
use secrecy::ExposeSecret;

use crate::config::{Environment, Settings};
use crate::mail::build_mail;
use crate::metrics::PoolHandle;
use crate::providers::build_oauth_providers;
use crate::startup::StartupError;
use crate::storage::build_storage;

/// The service, what `/ready` checks, and the mail delivery worker.
#[derive(Debug)]
pub struct Components {
    /// The use cases on their adapters.
    pub service: Arc<AuthService>,
    /// Readiness checks of the adapters.
    pub probes: Vec<Arc<dyn Probe>>,
    /// Sends queued mail; runs beside the server and stops after it. `None` when the
    /// service's mailer delivers by itself (tests with a recording mailer).
    pub delivery: Option<Arc<DeliveryWorker>>,
    /// The connection pools whose usage `/metrics` reports.
    pub pools: Vec<PoolHandle>,
}

/// Builds the components for `settings`: PostgreSQL and Redis when their URLs are set,
/// the in-memory stores otherwise; mail through the outbox, sent over SMTP when
/// `SMTP_SERVER` is set, else written to the mail folder.
///
/// # Errors
/// [`StartupError`] when a key is invalid, production lacks what it requires, or
/// start-up migrations fail.
pub async fn build_components(settings: &Settings) -> Result<Components, StartupError> {
    if settings.app_env == Environment::Production {
        require_production_settings(settings)?;
    }
    let secrets = build_secrets(settings)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let storage = build_storage(settings).await?;
    let mail = build_mail(settings, storage.outbox.clone(), &secrets.keyed_hasher, clock.clone())?;
    let pools = storage.pools.clone();
    let (ports, mut probes) = storage.into_ports(mail.mailer, clock);
    let policy = settings.policy().map_err(|error| config_error(error.to_string()))?;
    let providers = build_oauth_providers(settings)?;
    let service = AuthService::new(ports, secrets, policy)
        .map_err(|error| config_error(error.to_string()))?
        .with_oauth_providers(providers);
    probes.extend(mail.probe);
    Ok(Components { service: Arc::new(service), probes, delivery: Some(mail.worker), pools })
}

fn config_error(message: impl Into<String>) -> StartupError {
    StartupError::Config(message.into())
}

fn require_production_settings(settings: &Settings) -> Result<(), StartupError> {
    let missing: Vec<&str> = [
        ("DATABASE_URL", settings.database_url.is_none()),
        ("REDIS_URL", settings.redis_url.is_none()),
        ("SMTP_SERVER", settings.smtp_server.is_none()),
        ("SECRET_KEY", settings.secret_key.is_none()),
        ("TOKEN_SIGNING_KEY", settings.token_signing_key.is_none()),
    ]
    .into_iter()
    .filter_map(|(key, absent)| absent.then_some(key))
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(config_error(format!(
            "APP_ENV=production requires real adapters and configured secrets; missing: {}",
            missing.join(", ")
        )))
    }
}

/// The server secret, the signing keyring and the password hasher from `settings`
/// (random ones, with a warning, where unset).
///
/// # Errors
/// [`StartupError::Config`] when a key is malformed.
pub fn build_secrets(settings: &Settings) -> Result<Secrets, StartupError> {
    let keyed_hasher = match &settings.secret_key {
        Some(secret) => KeyedHasher::new(secret.expose_secret().as_bytes())
            .map_err(|error| config_error(error.to_string()))?,
        None => {
            tracing::warn!(
                "SECRET_KEY is not set: using a random one; codes and refresh tokens will not survive a restart"
            );
            KeyedHasher::random()
        }
    };
    let signing_key = match &settings.token_signing_key {
        Some(text) => {
            SigningKey::from_paserk(text.expose_secret()).map_err(|error| config_error(error.to_string()))?
        }
        None => {
            let key = SigningKey::generate().map_err(|error| config_error(error.to_string()))?;
            tracing::warn!(
                kid = key.verifying_key().kid(),
                "TOKEN_SIGNING_KEY is not set: using an ephemeral signing key; tokens will not survive a restart (`otp-server keygen` makes one)"
            );
            key
        }
    };
    let previous = settings
        .token_previous_public_keys
        .split(',')
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(VerifyingKey::from_paserk)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| config_error(format!("TOKEN_PREVIOUS_PUBLIC_KEYS: {error}")))?;
    let concurrency = settings
        .argon2_max_concurrency
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let password_hasher = PasswordHasher::new(Argon2Settings::OWASP, concurrency)
        .map_err(|error| config_error(error.to_string()))?;
    Ok(Secrets { keyed_hasher, password_hasher, keyring: Keyring::new(signing_key, previous) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn production_refuses_the_embedded_default() {
        let settings = Settings { app_env: Environment::Production, ..Settings::default() };
        let error = build_components(&settings).await.unwrap_err().to_string();
        assert!(
            error.contains("DATABASE_URL")
                && error.contains("SECRET_KEY")
                && error.contains("TOKEN_SIGNING_KEY"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn smtp_settings_are_checked_at_start_up() {
        let settings = Settings {
            smtp_server: Some("smtp.example.com".into()),
            smtp_tls: Some("ssl".into()),
            ..Settings::default()
        };
        assert!(build_components(&settings).await.unwrap_err().to_string().contains("SMTP_TLS"));
    }

    #[tokio::test]
    async fn bad_keys_are_reported_by_name() {
        let settings = Settings { token_signing_key: Some("k4.secret.nope".into()), ..Settings::default() };
        assert!(build_components(&settings).await.unwrap_err().to_string().contains("TOKEN_SIGNING_KEY"));
        let settings = Settings { secret_key: Some("short".into()), ..Settings::default() };
        assert!(build_components(&settings).await.unwrap_err().to_string().contains("SECRET_KEY"));
    }
}
