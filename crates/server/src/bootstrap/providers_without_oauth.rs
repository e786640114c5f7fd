//! Sign-in providers in a build without the `oauth` feature: none. A provider setting
//! stops start-up rather than being ignored.

use otp_core::OAuthProviders;

use super::error::StartupError;
use super::settings::Settings;

/// The providers the API knows by name (each answers `oauth_provider_not_configured`).
const KNOWN: [&str; 2] = ["google", "github"];

/// No provider; the names stay known so their routes answer
/// `oauth_provider_not_configured`.
///
/// # Errors
/// [`StartupError::Config`] naming the first provider setting that is set.
pub fn build_oauth_providers(settings: &Settings) -> Result<OAuthProviders, StartupError> {
    let set = [
        ("GOOGLE_CLIENT_ID", settings.google_client_id.is_some()),
        ("GOOGLE_CLIENT_SECRET", settings.google_client_secret.is_some()),
        ("GOOGLE_REDIRECT_URI", settings.google_redirect_uri.is_some()),
        ("GITHUB_CLIENT_ID", settings.github_client_id.is_some()),
        ("GITHUB_CLIENT_SECRET", settings.github_client_secret.is_some()),
        ("GITHUB_REDIRECT_URI", settings.github_redirect_uri.is_some()),
        ("OAUTH_ALLOWED_REDIRECT_URIS", !settings.oauth_allowed_redirect_uris.trim().is_empty()),
    ];
    if let Some((key, _)) = set.iter().find(|(_, is_set)| *is_set) {
        return Err(StartupError::missing_feature(key, "oauth"));
    }
    tracing::info!("no sign-in provider: this build has no `oauth` feature");
    Ok(OAuthProviders::new(KNOWN))
}
