//! The sign-in providers the settings configure: Google and GitHub, each when its
//! client id, client secret and redirect URI are all set.

use std::sync::Arc;

use otp_core::OAuthProviders;
use otp_core::ports::OAuthProvider;
use otp_oauth::{GitHubConfig, GitHubProvider, GoogleConfig, GoogleProvider, OAuthSetupError};
use secrecy::SecretString;

use super::error::StartupError;
use super::settings::Settings;

/// A provider's settings, as read: the three that configure it, and the overrides.
struct ProviderSettings<'a> {
    /// `GOOGLE`, `GITHUB`: the prefix of its keys.
    prefix: &'static str,
    client_id: Option<&'a str>,
    client_secret: Option<&'a SecretString>,
    redirect_uri: Option<&'a str>,
    /// (key suffix, value) of every endpoint override.
    overrides: Vec<(&'static str, Option<&'a str>)>,
}

/// The credentials of a fully configured provider.
struct Credentials {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
}

impl ProviderSettings<'_> {
    /// `None` when nothing of the provider is set; its credentials when all three are.
    ///
    /// # Errors
    /// [`StartupError::Config`] naming the missing keys when only some are set.
    fn credentials(&self) -> Result<Option<Credentials>, StartupError> {
        let prefix = self.prefix;
        let required = [
            ("CLIENT_ID", self.client_id.is_some()),
            ("CLIENT_SECRET", self.client_secret.is_some()),
            ("REDIRECT_URI", self.redirect_uri.is_some()),
        ];
        let anything_set =
            required.iter().any(|(_, set)| *set) || self.overrides.iter().any(|(_, value)| value.is_some());
        match (self.client_id, self.client_secret, self.redirect_uri) {
            (Some(client_id), Some(client_secret), Some(redirect_uri)) => Ok(Some(Credentials {
                client_id: client_id.to_owned(),
                client_secret: client_secret.clone(),
                redirect_uri: otp_oauth::check_redirect_uri("REDIRECT_URI", redirect_uri)
                    .map_err(|error| setup_error(prefix, &error))?,
            })),
            _ if !anything_set => Ok(None),
            _ => {
                let missing: Vec<String> = required
                    .iter()
                    .filter(|(_, set)| !set)
                    .map(|(key, _)| format!("{prefix}_{key}"))
                    .collect();
                Err(StartupError::Config(format!(
                    "{prefix} sign-in is half configured: {} must be set too (or unset every {prefix}_* key)",
                    missing.join(", ")
                )))
            }
        }
    }

    fn override_of(&self, suffix: &str) -> Option<String> {
        self.overrides.iter().find(|(key, _)| *key == suffix).and_then(|(_, value)| value.map(str::to_owned))
    }
}

/// A setup error with its key spelled as the configuration spells it.
fn setup_error(prefix: &str, error: &OAuthSetupError) -> StartupError {
    match error {
        OAuthSetupError::InvalidSetting { setting, reason } => {
            StartupError::Config(format!("{prefix}_{}: {reason}", setting.to_uppercase()))
        }
        other => StartupError::Config(format!("{prefix} sign-in: {other}")),
    }
}

fn google_settings(settings: &Settings) -> ProviderSettings<'_> {
    ProviderSettings {
        prefix: "GOOGLE",
        client_id: settings.google_client_id.as_deref(),
        client_secret: settings.google_client_secret.as_ref(),
        redirect_uri: settings.google_redirect_uri.as_deref(),
        overrides: vec![
            ("AUTH_URL", settings.google_auth_url.as_deref()),
            ("TOKEN_URL", settings.google_token_url.as_deref()),
            ("JWKS_URL", settings.google_jwks_url.as_deref()),
            ("ISSUER", settings.google_issuer.as_deref()),
        ],
    }
}

fn github_settings(settings: &Settings) -> ProviderSettings<'_> {
    ProviderSettings {
        prefix: "GITHUB",
        client_id: settings.github_client_id.as_deref(),
        client_secret: settings.github_client_secret.as_ref(),
        redirect_uri: settings.github_redirect_uri.as_deref(),
        overrides: vec![
            ("AUTH_URL", settings.github_auth_url.as_deref()),
            ("TOKEN_URL", settings.github_token_url.as_deref()),
            ("API_URL", settings.github_api_url.as_deref()),
        ],
    }
}

fn google(raw: &ProviderSettings<'_>, credentials: &Credentials) -> Result<GoogleProvider, OAuthSetupError> {
    let defaults = GoogleConfig::new(credentials.client_id.clone(), credentials.client_secret.clone());
    GoogleProvider::new(GoogleConfig {
        auth_url: raw.override_of("AUTH_URL").unwrap_or(defaults.auth_url.clone()),
        token_url: raw.override_of("TOKEN_URL").unwrap_or(defaults.token_url.clone()),
        jwks_url: raw.override_of("JWKS_URL").unwrap_or(defaults.jwks_url.clone()),
        issuer: raw.override_of("ISSUER").unwrap_or(defaults.issuer.clone()),
        ..defaults
    })
}

fn github(raw: &ProviderSettings<'_>, credentials: &Credentials) -> Result<GitHubProvider, OAuthSetupError> {
    let defaults = GitHubConfig::new(credentials.client_id.clone(), credentials.client_secret.clone());
    GitHubProvider::new(GitHubConfig {
        auth_url: raw.override_of("AUTH_URL").unwrap_or(defaults.auth_url.clone()),
        token_url: raw.override_of("TOKEN_URL").unwrap_or(defaults.token_url.clone()),
        api_url: raw.override_of("API_URL").unwrap_or(defaults.api_url.clone()),
        ..defaults
    })
}

/// The redirect URIs of `OAUTH_ALLOWED_REDIRECT_URIS`, each checked.
fn allowed_redirect_uris(settings: &Settings) -> Result<Vec<String>, StartupError> {
    settings
        .oauth_allowed_redirect_uris
        .split(',')
        .map(str::trim)
        .filter(|uri| !uri.is_empty())
        .map(|uri| {
            otp_oauth::check_redirect_uri("OAUTH_ALLOWED_REDIRECT_URIS", uri)
                .map_err(|error| StartupError::Config(error.to_string()))
        })
        .collect()
}

/// Adds `provider` with its redirect URI and the extra allowed ones.
fn add(
    providers: &mut OAuthProviders,
    provider: Arc<dyn OAuthProvider>,
    credentials: Credentials,
    also_allowed: &[String],
) -> Result<(), StartupError> {
    let name = provider.name().to_owned();
    providers
        .add(provider, credentials.redirect_uri, also_allowed.iter().cloned())
        .map_err(|error| StartupError::Config(format!("{name} sign-in: {error}")))
}

/// The providers `settings` configure, each allowing its own redirect URI and those of
/// `OAUTH_ALLOWED_REDIRECT_URIS`.
///
/// # Errors
/// [`StartupError::Config`] naming the key when a provider is half configured, or a
/// URL or redirect URI is unusable.
pub fn build_oauth_providers(settings: &Settings) -> Result<OAuthProviders, StartupError> {
    let also_allowed = allowed_redirect_uris(settings)?;
    let mut providers = OAuthProviders::new(otp_oauth::PROVIDERS);
    let raw = google_settings(settings);
    if let Some(credentials) = raw.credentials()? {
        let provider = google(&raw, &credentials).map_err(|error| setup_error(raw.prefix, &error))?;
        add(&mut providers, Arc::new(provider), credentials, &also_allowed)?;
    }
    let raw = github_settings(settings);
    if let Some(credentials) = raw.credentials()? {
        let provider = github(&raw, &credentials).map_err(|error| setup_error(raw.prefix, &error))?;
        add(&mut providers, Arc::new(provider), credentials, &also_allowed)?;
    }
    let names: Vec<&str> = providers.configured().collect();
    if names.is_empty() {
        tracing::info!("no sign-in provider configured");
    } else {
        tracing::info!(providers = ?names, "sign-in providers configured");
    }
    Ok(providers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google_only() -> Settings {
        Settings {
            google_client_id: Some("id.apps.googleusercontent.com".into()),
            google_client_secret: Some("secret".into()),
            google_redirect_uri: Some("http://127.0.0.1:8080/oauth/callback".into()),
            ..Settings::default()
        }
    }

    /// The configured providers, in byte order.
    fn names(providers: &OAuthProviders) -> Vec<&str> {
        let mut names: Vec<&str> = providers.configured().collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn nothing_set_means_no_provider() {
        assert!(names(&build_oauth_providers(&Settings::default()).unwrap()).is_empty());
    }

    #[test]
    fn a_provider_is_configured_by_its_three_keys() {
        assert_eq!(names(&build_oauth_providers(&google_only()).unwrap()), ["google"]);
        let both = Settings {
            github_client_id: Some("Iv1.abc".into()),
            github_client_secret: Some("secret".into()),
            github_redirect_uri: Some("https://app.example.com/oauth/callback".into()),
            ..google_only()
        };
        assert_eq!(names(&build_oauth_providers(&both).unwrap()), ["github", "google"]);
    }

    #[test]
    fn half_configured_providers_stop_start_up_naming_what_is_missing() {
        let settings = Settings { google_client_secret: None, ..google_only() };
        let error = build_oauth_providers(&settings).unwrap_err().to_string();
        assert!(error.contains("GOOGLE_CLIENT_SECRET") && !error.contains("GOOGLE_CLIENT_ID,"), "{error}");
        let only_override =
            Settings { github_api_url: Some("https://ghe.example.com/api/v3".into()), ..Settings::default() };
        let error = build_oauth_providers(&only_override).unwrap_err().to_string();
        assert!(error.contains("GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_REDIRECT_URI"), "{error}");
    }

    #[test]
    fn unusable_urls_are_reported_by_key() {
        let settings =
            Settings { google_token_url: Some("http://evil.example/token".into()), ..google_only() };
        assert!(build_oauth_providers(&settings).unwrap_err().to_string().contains("GOOGLE_TOKEN_URL"));
        let settings =
            Settings { google_redirect_uri: Some("http://app.example.com/cb".into()), ..google_only() };
        assert!(build_oauth_providers(&settings).unwrap_err().to_string().contains("GOOGLE_REDIRECT_URI"));
        let settings = Settings {
            oauth_allowed_redirect_uris: "https://ok.example/cb, javascript:alert(1)".into(),
            ..google_only()
        };
        assert!(
            build_oauth_providers(&settings).unwrap_err().to_string().contains("OAUTH_ALLOWED_REDIRECT_URIS")
        );
    }
}
