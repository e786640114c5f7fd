//! The server secret, the token signing keys and the password hasher.

use otp_core::Secrets;
use otp_core::crypto::{
    Argon2Settings, KeyedHasher, Keyring, PasswordHasher, ServiceCredentials, SigningKey, VerifyingKey,
    default_queue,
};
use secrecy::ExposeSecret;

use super::error::StartupError;
use super::settings::Settings;

fn config_error(message: impl Into<String>) -> StartupError {
    StartupError::Config(message.into())
}

/// The server secret, the signing keyring and the password hasher from `settings`
/// (random ones, with a warning, where unset).
///
/// # Errors
/// [`StartupError::Config`] when a key is malformed.
pub fn build_secrets(settings: &Settings) -> Result<Secrets, StartupError> {
    let keyed_hasher = match &settings.secret_key {
        Some(secret) => KeyedHasher::new(secret.expose_secret().as_bytes())
            .map_err(|error| config_error(format!("SECRET_KEY: {error}")))?,
        None => {
            tracing::warn!(
                "SECRET_KEY is not set: using a random one; codes and refresh tokens will not survive a restart"
            );
            KeyedHasher::random()
        }
    };
    let signing_key = match &settings.token_signing_key {
        Some(text) => SigningKey::from_paserk(text.expose_secret())
            .map_err(|error| config_error(format!("TOKEN_SIGNING_KEY {error}")))?,
        None => {
            let key =
                SigningKey::generate().map_err(|error| config_error(format!("token signing key {error}")))?;
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
    let queue = settings.password_hash_queue.unwrap_or_else(|| default_queue(concurrency));
    let password_hasher = PasswordHasher::with_queue(Argon2Settings::OWASP, concurrency, queue)
        .map_err(|error| config_error(error.to_string()))?
        .with_imported_bcrypt(settings.imported_bcrypt_hashes);
    let service_credentials = match &settings.introspection_tokens {
        Some(list) => ServiceCredentials::parse(list.expose_secret())
            .map_err(|error| config_error(format!("INTROSPECTION_TOKENS: {error}")))?,
        None => ServiceCredentials::none(),
    };
    Ok(Secrets {
        keyed_hasher,
        password_hasher,
        keyring: Keyring::new(signing_key, previous),
        service_credentials,
    })
}
