//! Configuration: defaults, then an optional TOML file (`OTP_CONFIG_FILE`), then the
//! environment (after `.env`). Keys are the upper-case names documented in
//! `.env.example`; in the file they are written in lower case.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use otp_core::ports::RateLimit;
use otp_core::{AuthPolicy, EmailAddress, PolicyError, TokenCachePolicy};
use secrecy::SecretString;
use serde::Deserialize;

use super::aliases;

/// Every key the server reads from the environment: the upper-case names of the
/// [`Settings`] fields, taken from the struct itself so the list cannot drift.
pub fn keys() -> Vec<String> {
    field_names::of::<Settings>().iter().map(|name| name.to_uppercase()).collect()
}

/// Reads the field names serde derives for a struct, by asking it to deserialize
/// from a deserializer that only records them.
mod field_names {
    use serde::de::{self, Deserialize, Deserializer, Visitor};

    struct Recorder<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Recorder<'_> {
        type Error = de::value::Error;

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("field names recorded"))
        }

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    pub(super) fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
        let mut fields: &'static [&'static str] = &[];
        let _ = T::deserialize(Recorder(&mut fields));
        fields
    }
}

/// Where the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local development: in-memory defaults and ephemeral keys allowed.
    Development,
    /// Automated tests.
    Test,
    /// Production: real adapters and configured secrets required.
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The server's settings. Secrets are `SecretString`s and never print.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub app_env: Environment,
    pub app_name: String,
    pub host: String,
    pub port: u16,
    pub metrics_addr: String,
    pub log_format: Option<LogFormat>,
    pub database_url: Option<SecretString>,
    pub database_migration_url: Option<SecretString>,
    pub database_statement_cache: bool,
    pub redis_url: Option<SecretString>,
    pub redis_cluster_nodes: Option<SecretString>,
    pub run_migrations: Option<bool>,
    pub database_pool_size: usize,
    pub database_timeout_seconds: u64,
    pub redis_key_prefix: String,
    pub redis_pool_size: usize,
    pub redis_timeout_ms: u64,
    pub secret_key: Option<SecretString>,
    pub token_signing_key: Option<SecretString>,
    pub token_previous_public_keys: String,
    pub token_issuer: String,
    pub token_audience: String,
    pub access_token_expire_minutes: u64,
    pub refresh_token_expire_days: u64,
    pub session_max_lifetime_days: u64,
    pub password_min_strength: u8,
    pub max_devices_per_user: usize,
    pub max_sessions_per_user: usize,
    /// Days an ended session or a forgotten device is kept before it is deleted (0:
    /// kept forever).
    pub session_retention_days: u64,
    /// Seconds between two runs of that purge (at least 1).
    pub purge_interval_seconds: u64,
    pub otp_length: usize,
    pub otp_expire_seconds: u64,
    pub otp_max_attempts: u32,
    pub otp_max_failures_per_day: u32,
    pub otp_resend_cooldown_seconds: u64,
    pub rate_limit_per_ip: u32,
    pub rate_limit_per_email: u32,
    pub trusted_proxies: String,
    pub trusted_proxy_header: String,
    pub cors_allowed_origins: String,
    pub frontend_url: Option<String>,
    pub public_url: Option<String>,
    pub mail_dir: PathBuf,
    pub from_email: String,
    pub smtp_server: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    pub smtp_tls: Option<String>,
    pub smtp_timeout_seconds: u64,
    pub smtp_ca_file: Option<PathBuf>,
    pub mail_template_dir: Option<PathBuf>,
    pub default_locale: String,
    pub dkim_private_key: Option<SecretString>,
    pub dkim_selector: Option<String>,
    pub dkim_domain: Option<String>,
    pub mail_max_attempts: u32,
    pub mail_retry_max_seconds: u64,
    pub mail_workers: Option<usize>,
    pub mail_queue_per_client: usize,
    pub argon2_max_concurrency: Option<usize>,
    pub password_hash_queue: Option<usize>,
    pub imported_bcrypt_hashes: bool,
    pub shutdown_timeout_seconds: u64,
    pub workers: Option<usize>,
    pub oauth_state_ttl_seconds: u64,
    pub oauth_allowed_redirect_uris: String,
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<SecretString>,
    pub google_redirect_uri: Option<String>,
    pub google_auth_url: Option<String>,
    pub google_token_url: Option<String>,
    pub google_jwks_url: Option<String>,
    pub google_issuer: Option<String>,
    pub github_client_id: Option<String>,
    pub github_client_secret: Option<SecretString>,
    pub github_redirect_uri: Option<String>,
    pub github_auth_url: Option<String>,
    pub github_token_url: Option<String>,
    pub github_api_url: Option<String>,
    pub admin_email: Option<String>,
    pub introspection_tokens: Option<SecretString>,
    pub introspection_rate_limit_per_minute: u32,
    pub token_cache_capacity: u64,
    pub token_cache_ttl_seconds: u64,
    pub revocation_staleness_seconds: u64,
    /// Comma-separated webhook endpoints that get every auth event (none: no webhooks).
    pub webhook_urls: String,
    /// The Standard Webhooks signing secret, `whsec_` and base64 (required with URLs).
    pub webhook_secret: Option<SecretString>,
    pub webhook_max_attempts: u32,
    pub webhook_retry_max_seconds: u64,
    pub webhook_timeout_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        let policy = AuthPolicy::default();
        let delivery = otp_core::mail::DeliveryPolicy::default();
        Self {
            app_env: Environment::Development,
            app_name: "OTP Auth".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 8080,
            metrics_addr: "127.0.0.1:9464".to_owned(),
            log_format: None,
            database_url: None,
            database_migration_url: None,
            database_statement_cache: true,
            redis_url: None,
            redis_cluster_nodes: None,
            run_migrations: None,
            database_pool_size: 10,
            database_timeout_seconds: 5,
            redis_key_prefix: "otp:".to_owned(),
            redis_pool_size: 8,
            redis_timeout_ms: 1000,
            secret_key: None,
            token_signing_key: None,
            token_previous_public_keys: String::new(),
            token_issuer: policy.token_issuer,
            token_audience: policy.token_audience,
            access_token_expire_minutes: policy.access_token_ttl.as_secs() / 60,
            refresh_token_expire_days: policy.refresh_token_ttl.as_secs() / 86_400,
            session_max_lifetime_days: policy.session_max_lifetime.as_secs() / 86_400,
            password_min_strength: policy.password_min_strength,
            max_devices_per_user: policy.max_devices_per_user,
            max_sessions_per_user: policy.max_sessions_per_user,
            session_retention_days: 30,
            purge_interval_seconds: 3600,
            otp_length: policy.code_length,
            otp_expire_seconds: policy.code_ttl.as_secs(),
            otp_max_attempts: policy.max_code_attempts,
            otp_max_failures_per_day: policy.max_code_failures_per_day,
            otp_resend_cooldown_seconds: policy.resend_cooldown.as_secs(),
            rate_limit_per_ip: policy.per_ip_limit.max,
            rate_limit_per_email: policy.per_email_limit.max,
            trusted_proxies: String::new(),
            trusted_proxy_header: "x-forwarded-for".to_owned(),
            cors_allowed_origins: String::new(),
            frontend_url: None,
            public_url: None,
            mail_dir: PathBuf::from("var/mail"),
            from_email: "no-reply@localhost.localdomain".to_owned(),
            smtp_server: None,
            smtp_port: None,
            smtp_username: None,
            smtp_password: None,
            smtp_tls: None,
            smtp_timeout_seconds: 10,
            smtp_ca_file: None,
            mail_template_dir: None,
            default_locale: "en".to_owned(),
            dkim_private_key: None,
            dkim_selector: None,
            dkim_domain: None,
            mail_max_attempts: delivery.max_attempts,
            mail_retry_max_seconds: delivery.max_retry.as_secs(),
            mail_workers: None,
            mail_queue_per_client: 100,
            argon2_max_concurrency: None,
            password_hash_queue: None,
            imported_bcrypt_hashes: false,
            shutdown_timeout_seconds: 30,
            workers: None,
            oauth_state_ttl_seconds: policy.oauth_state_ttl.as_secs(),
            oauth_allowed_redirect_uris: String::new(),
            google_client_id: None,
            google_client_secret: None,
            google_redirect_uri: None,
            google_auth_url: None,
            google_token_url: None,
            google_jwks_url: None,
            google_issuer: None,
            github_client_id: None,
            github_client_secret: None,
            github_redirect_uri: None,
            github_auth_url: None,
            github_token_url: None,
            github_api_url: None,
            admin_email: None,
            introspection_tokens: None,
            introspection_rate_limit_per_minute: policy.per_credential_limit.max,
            token_cache_capacity: policy.token_cache.capacity,
            token_cache_ttl_seconds: policy.token_cache.ttl.as_secs(),
            revocation_staleness_seconds: policy.token_cache.staleness.as_secs(),
            webhook_urls: String::new(),
            webhook_secret: None,
            webhook_max_attempts: 24,
            webhook_retry_max_seconds: 3600,
            webhook_timeout_seconds: 10,
        }
    }
}

/// Configuration that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A source could not be read or a value has the wrong type.
    #[error("reading configuration: {0}")]
    Read(#[from] config::ConfigError),
    /// A value is out of range or inconsistent with another.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Reads `.env` (if present), `OTP_CONFIG_FILE` (if set) and the environment.
    ///
    /// # Errors
    /// [`ConfigError`] when a source is unreadable or a value has the wrong type.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_with_notes().map(|(settings, _)| settings)
    }

    /// As [`Settings::load`], also reading the Python services' keys (see
    /// [`super::aliases`]) and SQLAlchemy's `DATABASE_URL`; returns one note per
    /// alias used, for the start-up log once logging runs.
    ///
    /// # Errors
    /// [`ConfigError`] when a source is unreadable, a value has the wrong type, or a key
    /// is given under two names with different values.
    pub fn load_with_notes() -> Result<(Self, Vec<String>), ConfigError> {
        let _ = dotenvy::dotenv();
        let mut environment: BTreeMap<String, String> = keys()
            .into_iter()
            .filter_map(|key| {
                let value = std::env::var(&key).ok()?;
                (!value.trim().is_empty()).then_some((key, value))
            })
            .collect();
        let mut notes =
            aliases::apply(&mut environment, |key| std::env::var(key).ok()).map_err(ConfigError::Invalid)?;
        if let Some((url, driver)) =
            environment.get("DATABASE_URL").and_then(|url| aliases::strip_driver_suffix(url))
        {
            notes.push(format!("DATABASE_URL: SQLAlchemy's driver suffix +{driver} ignored"));
            environment.insert("DATABASE_URL".to_owned(), url);
        }
        let environment: config::Map<String, String> =
            environment.into_iter().map(|(key, value)| (key.to_lowercase(), value)).collect();
        let mut builder = config::Config::builder();
        if let Ok(path) = std::env::var("OTP_CONFIG_FILE") {
            builder = builder.add_source(config::File::with_name(&path).required(true));
        }
        let settings: Self = builder
            .add_source(config::Environment::default().source(Some(environment)))
            .build()?
            .try_deserialize()?;
        Ok((settings, notes))
    }

    /// The first Python service's MongoDB keys that are set (`MONGODB_URL`,
    /// `DATABASE_NAME`): MongoDB is not a store here, and its accounts come over with
    /// `otp-server import mongoexport`.
    pub fn mongodb_keys_set() -> Vec<&'static str> {
        ["MONGODB_URL", "DATABASE_NAME"]
            .into_iter()
            .filter(|key| std::env::var(key).is_ok_and(|value| !value.trim().is_empty()))
            .collect()
    }

    /// The domain policy these settings describe.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] when a value is out of range.
    pub fn policy(&self) -> Result<AuthPolicy, ConfigError> {
        let admin_email = self
            .admin_email
            .as_deref()
            .filter(|text| !text.trim().is_empty())
            .map(EmailAddress::parse)
            .transpose()
            .map_err(|error| ConfigError::Invalid(format!("ADMIN_EMAIL: {error}")))?;
        let policy = AuthPolicy {
            code_length: self.otp_length,
            code_ttl: Duration::from_secs(self.otp_expire_seconds),
            max_code_attempts: self.otp_max_attempts,
            max_code_failures_per_day: self.otp_max_failures_per_day,
            resend_cooldown: Duration::from_secs(self.otp_resend_cooldown_seconds),
            per_ip_limit: RateLimit { max: self.rate_limit_per_ip, window: Duration::from_secs(60) },
            per_email_limit: RateLimit { max: self.rate_limit_per_email, window: Duration::from_secs(3600) },
            access_token_ttl: Duration::from_secs(self.access_token_expire_minutes.saturating_mul(60)),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_expire_days.saturating_mul(86_400)),
            session_max_lifetime: Duration::from_secs(self.session_max_lifetime_days.saturating_mul(86_400)),
            password_min_strength: self.password_min_strength,
            max_devices_per_user: self.max_devices_per_user,
            max_sessions_per_user: self.max_sessions_per_user,
            token_issuer: self.token_issuer.clone(),
            token_audience: self.token_audience.clone(),
            oauth_state_ttl: Duration::from_secs(self.oauth_state_ttl_seconds),
            admin_email,
            per_credential_limit: RateLimit {
                max: self.introspection_rate_limit_per_minute,
                window: Duration::from_secs(60),
            },
            token_cache: TokenCachePolicy {
                capacity: self.token_cache_capacity,
                ttl: Duration::from_secs(self.token_cache_ttl_seconds),
                staleness: Duration::from_secs(self.revocation_staleness_seconds),
            },
            page_url: self.public_url.clone().unwrap_or_else(|| format!("http://localhost:{}", self.port)),
        };
        policy.validate().map_err(|error| ConfigError::Invalid(policy_error_message(error)))?;
        Ok(policy)
    }

    /// The log format: as configured, else JSON in production and pretty elsewhere.
    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(match self.app_env {
            Environment::Production => LogFormat::Json,
            _ => LogFormat::Pretty,
        })
    }

    /// Whether migrations run at start-up: as configured, else everywhere but
    /// production.
    pub fn run_migrations(&self) -> bool {
        self.run_migrations.unwrap_or(self.app_env != Environment::Production)
    }

    /// Where migrations run: `DATABASE_MIGRATION_URL` (a direct connection, when
    /// `DATABASE_URL` goes through a transaction-pooling PgBouncer), else `DATABASE_URL`.
    pub fn migration_url(&self) -> Option<&SecretString> {
        self.database_migration_url.as_ref().or(self.database_url.as_ref())
    }

    /// Whether codes, rate limits and pending provider sign-ins are in Redis (one node
    /// or a cluster).
    pub fn uses_redis(&self) -> bool {
        self.redis_url.is_some() || self.redis_cluster_nodes.is_some()
    }

    /// How long ended sessions and forgotten devices are kept (`SESSION_RETENTION_DAYS`),
    /// `None` when they are kept forever (0).
    pub fn record_retention(&self) -> Option<std::time::Duration> {
        (self.session_retention_days > 0)
            .then(|| std::time::Duration::from_secs(self.session_retention_days.saturating_mul(86_400)))
    }

    /// Whether answers carry `Strict-Transport-Security`: when `PUBLIC_URL` or
    /// `FRONTEND_URL` is an `https://` address, so the service is reached over TLS.
    pub fn hsts(&self) -> bool {
        [&self.public_url, &self.frontend_url]
            .into_iter()
            .flatten()
            .any(|url| url.trim().get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")))
    }

    /// The origins allowed to call the API from a browser: `CORS_ALLOWED_ORIGINS` and
    /// the origin of `FRONTEND_URL` (its scheme, host and port; a path is dropped).
    pub fn cors_origins(&self) -> Vec<String> {
        let listed = self.cors_allowed_origins.split(',').map(str::trim).filter(|origin| !origin.is_empty());
        let frontend = self.frontend_url.as_deref().map(origin_of);
        let mut origins: Vec<String> = listed.map(str::to_owned).chain(frontend).collect();
        origins.dedup();
        origins
    }
}

/// The origin of a URL: `scheme://host[:port]`, without path, query or fragment.
fn origin_of(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else { return url.trim_end_matches('/').to_owned() };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

/// A policy error in the words of the settings that cause it.
fn policy_error_message(error: PolicyError) -> String {
    let message = match error {
        PolicyError::CodeLength => "OTP_LENGTH must be between 6 and 10",
        PolicyError::CodeLifetime => "OTP_EXPIRE_SECONDS must be between 1 and 600",
        PolicyError::CodeAttempts => "OTP_MAX_ATTEMPTS must be between 1 and 10",
        PolicyError::CodeFailureCap => "OTP_MAX_FAILURES_PER_DAY must be between 1 and 100",
        PolicyError::RateLimit => {
            "RATE_LIMIT_PER_IP, RATE_LIMIT_PER_EMAIL and INTROSPECTION_RATE_LIMIT_PER_MINUTE must be at least 1"
        }
        PolicyError::AccessTokenLifetime => "ACCESS_TOKEN_EXPIRE_MINUTES must be at least 1",
        PolicyError::RefreshTokenLifetime => {
            "REFRESH_TOKEN_EXPIRE_DAYS must be longer than the access-token lifetime"
        }
        PolicyError::SessionLifetime => "SESSION_MAX_LIFETIME_DAYS must be between 1 and 3650",
        PolicyError::PasswordStrength => "PASSWORD_MIN_STRENGTH must be between 2 and 4",
        PolicyError::TokenClaims => "TOKEN_ISSUER and TOKEN_AUDIENCE must not be empty",
        PolicyError::OAuthStateLifetime => "OAUTH_STATE_TTL_SECONDS must be between 60 and 3600",
        PolicyError::DevicesPerUser => "MAX_DEVICES_PER_USER must be between 1 and 1000",
        PolicyError::SessionsPerUser => "MAX_SESSIONS_PER_USER must be between 1 and 1000",
    };
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_policy() {
        let settings = Settings::default();
        assert_eq!((settings.host.as_str(), settings.port), ("127.0.0.1", 8080));
        assert_eq!(settings.policy().unwrap(), AuthPolicy::default());
        assert_eq!(settings.log_format(), LogFormat::Pretty);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let settings = Settings { otp_expire_seconds: 900, ..Settings::default() };
        assert!(settings.policy().unwrap_err().to_string().contains("OTP_EXPIRE_SECONDS"));
    }

    #[test]
    fn each_out_of_range_rule_names_its_setting() {
        let refused = |settings: Settings| settings.policy().unwrap_err().to_string();
        assert!(refused(Settings { otp_length: 4, ..Settings::default() }).contains("OTP_LENGTH"));
        assert!(
            refused(Settings { otp_max_failures_per_day: 101, ..Settings::default() })
                .contains("OTP_MAX_FAILURES_PER_DAY")
        );
        assert!(
            refused(Settings { otp_max_attempts: 0, ..Settings::default() }).contains("OTP_MAX_ATTEMPTS")
        );
        let refresh = Settings { refresh_token_expire_days: 0, ..Settings::default() };
        assert!(refused(refresh).contains("REFRESH_TOKEN_EXPIRE_DAYS"));
        for seconds in [59, 3601] {
            let state = Settings { oauth_state_ttl_seconds: seconds, ..Settings::default() };
            assert!(refused(state).contains("OAUTH_STATE_TTL_SECONDS"));
        }
        let limits = Settings { rate_limit_per_email: 0, ..Settings::default() };
        assert!(refused(limits).contains("RATE_LIMIT_PER_EMAIL"));
        for score in [1, 5] {
            let strength = Settings { password_min_strength: score, ..Settings::default() };
            assert!(refused(strength).contains("PASSWORD_MIN_STRENGTH"));
        }
        for days in [0, 3651] {
            let lifetime = Settings { session_max_lifetime_days: days, ..Settings::default() };
            assert!(refused(lifetime).contains("SESSION_MAX_LIFETIME_DAYS"));
        }
        let access = Settings { access_token_expire_minutes: 0, ..Settings::default() };
        assert!(refused(access).contains("ACCESS_TOKEN_EXPIRE_MINUTES"));
        assert!(
            refused(Settings { token_issuer: String::new(), ..Settings::default() }).contains("TOKEN_ISSUER")
        );
    }

    #[test]
    fn the_admin_email_is_normalised_and_checked() {
        let settings = Settings { admin_email: Some(" Root@Example.COM ".into()), ..Settings::default() };
        assert_eq!(settings.policy().unwrap().admin_email.unwrap().as_str(), "root@example.com");
        let settings = Settings { admin_email: Some("not an address".into()), ..Settings::default() };
        assert!(settings.policy().unwrap_err().to_string().contains("ADMIN_EMAIL"));
    }

    #[test]
    fn cors_origins_merge_the_list_and_the_frontend() {
        let settings = Settings {
            cors_allowed_origins: "https://a.example, https://b.example".into(),
            frontend_url: Some("https://app.example/".into()),
            ..Settings::default()
        };
        assert_eq!(
            settings.cors_origins(),
            ["https://a.example", "https://b.example", "https://app.example"]
        );
        let page =
            Settings { frontend_url: Some("http://127.0.0.1:5500/index.html".into()), ..Settings::default() };
        assert_eq!(page.cors_origins(), ["http://127.0.0.1:5500"]);
    }

    #[test]
    fn every_setting_is_read_from_the_environment() {
        let keys = keys();
        for key in [
            "DATABASE_URL",
            "RUN_MIGRATIONS",
            "REDIS_KEY_PREFIX",
            "REDIS_TIMEOUT_MS",
            "SMTP_TLS",
            "WORKERS",
            "MAIL_WORKERS",
            "MAIL_QUEUE_PER_CLIENT",
            "PASSWORD_HASH_QUEUE",
            "GOOGLE_CLIENT_SECRET",
            "GITHUB_API_URL",
            "OAUTH_ALLOWED_REDIRECT_URIS",
            "OAUTH_STATE_TTL_SECONDS",
            "MAX_DEVICES_PER_USER",
            "MAX_SESSIONS_PER_USER",
            "SESSION_RETENTION_DAYS",
            "PURGE_INTERVAL_SECONDS",
            "WEBHOOK_URLS",
            "WEBHOOK_SECRET",
        ] {
            assert!(keys.iter().any(|known| known == key), "{key} missing from {keys:?}");
        }
        assert_eq!(
            keys.len(),
            91,
            "a key was added or removed: document it in .env.example and docs/configuration.md"
        );
    }

    #[test]
    fn hsts_follows_an_https_public_or_frontend_url() {
        assert!(!Settings::default().hsts());
        let public = Settings { public_url: Some("HTTPS://auth.example".into()), ..Settings::default() };
        assert!(public.hsts());
        let frontend = Settings { frontend_url: Some("https://app.example".into()), ..Settings::default() };
        assert!(frontend.hsts());
        let plain = Settings { public_url: Some("http://localhost:8080".into()), ..Settings::default() };
        assert!(!plain.hsts());
    }

    #[test]
    fn secrets_never_print() {
        let settings = Settings {
            secret_key: Some("super-secret-value".into()),
            google_client_secret: Some("google-secret-value".into()),
            github_client_secret: Some("github-secret-value".into()),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("super-secret-value"));
        assert!(!printed.contains("google-secret-value") && !printed.contains("github-secret-value"));
    }

    #[test]
    fn the_oauth_state_lifetime_is_ten_minutes_and_bounded() {
        assert_eq!(Settings::default().policy().unwrap().oauth_state_ttl, Duration::from_secs(600));
        let settings = Settings { oauth_state_ttl_seconds: 30, ..Settings::default() };
        assert!(settings.policy().unwrap_err().to_string().contains("OAUTH_STATE_TTL_SECONDS"));
    }
}
