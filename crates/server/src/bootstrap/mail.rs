//! Mail wiring: requests queue sealed messages in the outbox (PostgreSQL when
//! `DATABASE_URL` is set, else memory); one delivery worker per process sends them over
//! SMTP when `SMTP_SERVER` is set, else into the mail folder.

use std::sync::Arc;
use std::time::Duration;

use otp_core::crypto::{KeyedHasher, MailSealer};
use otp_core::domain::Locale;
use otp_core::mail::{
    DeliveryMeter, DeliveryPolicy, DeliveryWorker, MailHandoff, OutboxSignal, QueueingMailer,
};
use otp_core::ports::{Clock, MailComposer, MailOutbox, Mailer, Probe};
use otp_mail::{Composer, ComposerConfig, DkimSigner, MailRenderer, RendererConfig};
use otp_memory::FolderMailer;
#[cfg(feature = "smtp")]
use otp_smtp::{SmtpConfig, SmtpCredentials, SmtpMailer, TlsMode};
use secrecy::ExposeSecret;

use super::error::StartupError;
use super::settings::Settings;

/// The service's mailer (the outbox) and the worker that empties it.
#[derive(Debug)]
pub struct MailComponents {
    /// What the service sends through: queues and returns.
    pub mailer: Arc<dyn Mailer>,
    /// Sends queued mail through the transport.
    pub worker: Arc<DeliveryWorker>,
    /// The transport's readiness check, if it has one (the mail folder's).
    pub probe: Option<Arc<dyn Probe>>,
}

/// Builds the outbox mailer and the delivery worker for `settings`; `transport`, when
/// given, replaces SMTP or the mail folder.
///
/// # Errors
/// [`StartupError::Config`] when an SMTP or mail-folder setting is unusable.
pub fn build_mail(
    settings: &Settings,
    outbox: Arc<dyn MailOutbox>,
    hasher: &KeyedHasher,
    clock: Arc<dyn Clock>,
    transport: Option<Arc<dyn Mailer>>,
    renderer: Arc<MailRenderer>,
) -> Result<MailComponents, StartupError> {
    let policy = delivery_policy(settings);
    let composer: Arc<dyn MailComposer> = Arc::new(composer(settings, renderer)?);
    let configured = match transport {
        Some(transport) => Some(transport),
        None => smtp_transport(settings, &composer)?,
    };
    let (transport, probe): (Arc<dyn Mailer>, Option<Arc<dyn Probe>>) = match configured {
        Some(mailer) => (mailer, None),
        None => {
            let folder = FolderMailer::new(&settings.mail_dir, composer).map_err(|error| {
                StartupError::Config(format!("MAIL_DIR {}: {error}", settings.mail_dir.display()))
            })?;
            tracing::info!(mail_dir = %settings.mail_dir.display(), "mail written to a folder");
            let folder = Arc::new(folder);
            (folder.clone(), Some(folder))
        }
    };
    let sealer = MailSealer::new(hasher);
    let signal = Arc::new(OutboxSignal::new(policy.batch_size));
    let meter = Arc::new(DeliveryMeter::new(mail_workers(settings)));
    tracing::info!(workers = meter.workers(), "mail delivery loops");
    let mailer = QueueingMailer::new(
        outbox.clone(),
        sealer.clone(),
        clock.clone(),
        &policy,
        signal.clone(),
        meter.clone(),
    )
    .with_sender_cap(settings.mail_queue_per_client);
    // Four rounds' worth per loop: past that, messages wait in the outbox instead.
    let handoff = Arc::new(MailHandoff::new(4 * policy.batch_size * meter.workers()));
    let mailer = mailer.with_handoff(handoff.clone());
    let worker =
        DeliveryWorker::new(outbox, transport, sealer, clock, policy, signal, meter).with_handoff(handoff);
    Ok(MailComponents { mailer: Arc::new(mailer), worker: Arc::new(worker), probe })
}

/// Concurrent delivery loops: `MAIL_WORKERS`, else eight per CPU (a send mostly
/// waits on the mail server or the disk), at least one.
pub fn mail_workers(settings: &Settings) -> usize {
    settings
        .mail_workers
        .unwrap_or_else(|| 8 * std::thread::available_parallelism().map_or(2, usize::from))
        .max(1)
}

/// The renderer for `settings`: built-in templates with `MAIL_TEMPLATE_DIR`'s over them,
/// `DEFAULT_LOCALE`, the sign-in link to `PUBLIC_URL`. Every template is checked here.
///
/// # Errors
/// [`StartupError::Config`] naming the file and line of a broken template or message,
/// or an invalid `DEFAULT_LOCALE`.
pub fn build_renderer(settings: &Settings) -> Result<MailRenderer, StartupError> {
    let default_locale = Locale::parse(&settings.default_locale).map_err(|error| {
        StartupError::Config(format!("DEFAULT_LOCALE {:?}: {error}", settings.default_locale))
    })?;
    let config = RendererConfig {
        product: settings.app_name.clone(),
        public_url: settings.public_url.clone().filter(|url| !url.trim().is_empty()),
        default_locale,
        template_dir: settings.mail_template_dir.clone().filter(|dir| !dir.as_os_str().is_empty()),
    };
    let renderer = MailRenderer::new(config).map_err(|error| StartupError::Config(error.to_string()))?;
    if renderer.serves(&settings.default_locale).is_none() {
        tracing::warn!(default_locale = %settings.default_locale, "no messages in DEFAULT_LOCALE: mail falls back to English");
    }
    Ok(renderer)
}

/// The composer every transport uses: `FROM_EMAIL` as sender, `APP_NAME` as its name,
/// DKIM-signed when `DKIM_PRIVATE_KEY`, `DKIM_SELECTOR` and `DKIM_DOMAIN` are set.
///
/// # Errors
/// [`StartupError::Config`] for an unusable key, or only some of the DKIM settings.
pub fn composer(settings: &Settings, renderer: Arc<MailRenderer>) -> Result<Composer, StartupError> {
    let set = |value: &Option<String>| {
        value.as_deref().map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
    };
    let key = settings
        .dkim_private_key
        .as_ref()
        .map(|key| key.expose_secret().to_owned())
        .filter(|key| !key.trim().is_empty());
    let dkim = match (key, set(&settings.dkim_selector), set(&settings.dkim_domain)) {
        (Some(key), Some(selector), Some(domain)) => {
            let signer = DkimSigner::new(&key, &selector, &domain)
                .map_err(|error| StartupError::Config(error.to_string()))?;
            tracing::info!(domain = %domain, selector = %selector, "mail is DKIM-signed");
            Some(signer)
        }
        (None, None, None) => None,
        _ => {
            return Err(StartupError::Config(
                "DKIM needs all of DKIM_PRIVATE_KEY, DKIM_SELECTOR and DKIM_DOMAIN, or none".to_owned(),
            ));
        }
    };
    let sender = ComposerConfig {
        from_address: settings.from_email.clone(),
        from_name: settings.app_name.clone(),
        dkim,
    };
    Composer::new(renderer, sender).map_err(|error| StartupError::Config(error.to_string()))
}

/// The retry budget from `MAIL_MAX_ATTEMPTS` and `MAIL_RETRY_MAX_SECONDS`.
pub fn delivery_policy(settings: &Settings) -> DeliveryPolicy {
    let defaults = DeliveryPolicy::default();
    let max_retry = Duration::from_secs(settings.mail_retry_max_seconds.max(1));
    DeliveryPolicy {
        max_attempts: settings.mail_max_attempts.max(1),
        max_retry,
        first_retry: defaults.first_retry.min(max_retry),
        // A send is bounded by three SMTP time-outs; the lease outlasts it.
        lease: defaults.lease.max(Duration::from_secs(settings.smtp_timeout_seconds.saturating_mul(4))),
        ..defaults
    }
}

/// The SMTP mailer, when `SMTP_SERVER` is set.
#[cfg(feature = "smtp")]
fn smtp_transport(
    settings: &Settings,
    composer: &Arc<dyn MailComposer>,
) -> Result<Option<Arc<dyn Mailer>>, StartupError> {
    let Some(config) = smtp_config(settings)? else { return Ok(None) };
    tracing::info!(host = %config.host, port = config.port, tls = ?config.tls, "mail sent over SMTP");
    let mailer =
        SmtpMailer::new(config, composer.clone()).map_err(|error| StartupError::Config(error.to_string()))?;
    Ok(Some(Arc::new(mailer)))
}

/// Without the `smtp` feature, an `SMTP_SERVER` stops start-up.
#[cfg(not(feature = "smtp"))]
fn smtp_transport(
    settings: &Settings,
    _composer: &Arc<dyn MailComposer>,
) -> Result<Option<Arc<dyn Mailer>>, StartupError> {
    match settings.smtp_server.as_deref().map(str::trim) {
        Some(host) if !host.is_empty() => Err(StartupError::missing_feature("SMTP_SERVER", "smtp")),
        _ => Ok(None),
    }
}

/// The SMTP settings, when `SMTP_SERVER` is set.
///
/// # Errors
/// [`StartupError::Config`] for an unknown `SMTP_TLS` or a password without a user.
#[cfg(feature = "smtp")]
pub fn smtp_config(settings: &Settings) -> Result<Option<SmtpConfig>, StartupError> {
    let Some(host) = settings.smtp_server.as_deref().map(str::trim).filter(|host| !host.is_empty()) else {
        return Ok(None);
    };
    let tls = match settings.smtp_tls.as_deref() {
        Some(mode) => mode.parse::<TlsMode>().map_err(|error| StartupError::Config(error.to_string()))?,
        None => TlsMode::StartTls,
    };
    let port = settings.smtp_port.unwrap_or(match tls {
        TlsMode::StartTls => 587,
        TlsMode::Implicit => 465,
        TlsMode::None => 25,
    });
    let credentials = match (&settings.smtp_username, &settings.smtp_password) {
        (Some(username), Some(password)) => {
            Some(SmtpCredentials { username: username.clone(), password: password.clone() })
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(StartupError::Config("SMTP_USERNAME is set without SMTP_PASSWORD".into()));
        }
        (None, Some(_)) => {
            return Err(StartupError::Config("SMTP_PASSWORD is set without SMTP_USERNAME".into()));
        }
    };
    let mut config = SmtpConfig::new(host, port, settings.from_email.clone());
    config.tls = tls;
    config.credentials = credentials;
    config.timeout = Duration::from_secs(settings.smtp_timeout_seconds.max(1));
    config.ca_file = settings.smtp_ca_file.clone();
    Ok(Some(config))
}

#[cfg(all(test, feature = "smtp"))]
mod tests {
    use super::*;

    fn smtp(settings: Settings) -> Result<Option<SmtpConfig>, StartupError> {
        smtp_config(&settings)
    }

    #[test]
    fn no_server_means_no_smtp() {
        assert!(smtp(Settings::default()).unwrap().is_none());
    }

    #[test]
    fn the_port_follows_the_tls_mode_unless_set() {
        let base = || Settings { smtp_server: Some("mail.example.com".into()), ..Settings::default() };
        assert_eq!(smtp(base()).unwrap().unwrap().port, 587);
        let implicit = Settings { smtp_tls: Some("implicit".into()), ..base() };
        assert_eq!(smtp(implicit).unwrap().unwrap().port, 465);
        let set = Settings { smtp_tls: Some("none".into()), smtp_port: Some(2525), ..base() };
        let config = smtp(set).unwrap().unwrap();
        assert_eq!((config.port, config.tls), (2525, TlsMode::None));
    }

    #[test]
    fn half_credentials_and_unknown_modes_are_refused() {
        let base = || Settings { smtp_server: Some("mail.example.com".into()), ..Settings::default() };
        let user_only = Settings { smtp_username: Some("app".into()), ..base() };
        assert!(smtp(user_only).unwrap_err().to_string().contains("SMTP_PASSWORD"));
        let bad_mode = Settings { smtp_tls: Some("ssl".into()), ..base() };
        assert!(smtp(bad_mode).unwrap_err().to_string().contains("SMTP_TLS"));
    }

    #[test]
    fn mail_workers_follow_the_setting_or_the_machine() {
        assert_eq!(mail_workers(&Settings { mail_workers: Some(3), ..Settings::default() }), 3);
        assert_eq!(mail_workers(&Settings { mail_workers: Some(0), ..Settings::default() }), 1);
        assert!(mail_workers(&Settings::default()) >= 8);
    }

    #[test]
    fn the_retry_budget_follows_the_settings() {
        let settings = Settings { mail_max_attempts: 3, mail_retry_max_seconds: 2, ..Settings::default() };
        let policy = delivery_policy(&settings);
        assert_eq!((policy.max_attempts, policy.max_retry), (3, Duration::from_secs(2)));
        assert!(policy.first_retry <= policy.max_retry);
    }
}
