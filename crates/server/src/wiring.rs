//! Chooses and builds the adapters and secrets the settings describe.

use std::sync::Arc;

use otp_core::crypto::{Argon2Settings, KeyedHasher, Keyring, PasswordHasher, SigningKey, VerifyingKey};
use otp_core::ports::{Probe, SystemClock};
use otp_core::{AuthService, Secrets};
use otp_memory::FolderMailer;
use secrecy::ExposeSecret;

use crate::config::{Environment, Settings};
use crate::providers::build_oauth_providers;
use crate::startup::StartupError;
use crate::storage::build_storage;

/// The service and what `/ready` checks.
#[derive(Debug)]
pub struct Components {
    /// The use cases on their adapters.
    pub service: Arc<AuthService>,
    /// Readiness checks of the adapters.
    pub probes: Vec<Arc<dyn Probe>>,
}

/// Builds the components for `settings`: PostgreSQL and Redis when their URLs are set,
/// the in-memory stores otherwise; mail always goes to the mail folder in this build.
///
/// # Errors
/// [`StartupError`] when a key is invalid, names an adapter this build does not have,
/// production lacks what it requires, or start-up migrations fail.
pub async fn build_components(settings: &Settings) -> Result<Components, StartupError> {
    refuse_unsupported_adapters(settings)?;
    if settings.app_env == Environment::Production {
        require_production_settings(settings)?;
    }
    let secrets = build_secrets(settings)?;
    let folder = FolderMailer::new(&settings.mail_dir, &settings.from_email, &settings.app_name)
        .map_err(|error| config_error(format!("MAIL_DIR {}: {error}", settings.mail_dir.display())))?;
    let folder = Arc::new(folder);
    tracing::info!(mail_dir = %settings.mail_dir.display(), "mail written to a folder");
    let (ports, mut probes) =
        build_storage(settings).await?.into_ports(folder.clone(), Arc::new(SystemClock));
    let policy = settings.policy().map_err(|error| config_error(error.to_string()))?;
    let providers = build_oauth_providers(settings)?;
    let service = AuthService::new(ports, secrets, policy)
        .map_err(|error| config_error(error.to_string()))?
        .with_oauth_providers(providers);
    probes.push(folder);
    Ok(Components { service: Arc::new(service), probes })
}

fn config_error(message: impl Into<String>) -> StartupError {
    StartupError::Config(message.into())
}

fn refuse_unsupported_adapters(settings: &Settings) -> Result<(), StartupError> {
    if settings.smtp_server.is_some() {
        return Err(config_error(
            "SMTP_SERVER is set, but this build has no SMTP adapter yet; unset it to write mail to MAIL_DIR",
        ));
    }
    Ok(())
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
    async fn adapters_this_build_lacks_are_refused_rather_than_ignored() {
        let settings = Settings { smtp_server: Some("smtp.example.com".into()), ..Settings::default() };
        assert!(build_components(&settings).await.unwrap_err().to_string().contains("SMTP_SERVER"));
    }

    #[tokio::test]
    async fn bad_keys_are_reported_by_name() {
        let settings = Settings { token_signing_key: Some("k4.secret.nope".into()), ..Settings::default() };
        assert!(build_components(&settings).await.unwrap_err().to_string().contains("TOKEN_SIGNING_KEY"));
        let settings = Settings { secret_key: Some("short".into()), ..Settings::default() };
        assert!(build_components(&settings).await.unwrap_err().to_string().contains("SECRET_KEY"));
    }
}
