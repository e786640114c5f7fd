//! Starts a real server on port 0 with in-memory adapters, a recording mailer and a
//! clock the test moves.

use std::sync::Arc;
use std::time::Duration;

use otp_core::EmailAddress;
use otp_core::crypto::{KeyedHasher, SigningKey};
use otp_memory::{ManualClock, RecordingMailer};
use otp_server::{Application, Overrides, Settings, build_components};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub use otp_test_support::{PgBouncer, TestDatabase, TestRedis, fresh_key_prefix, redis_cluster_nodes};

pub const PASSWORD: &str = "correct horse battery";

/// Which adapters the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Every store in memory.
    Memory,
    /// Accounts and sessions in PostgreSQL, codes and rate limits in Redis.
    Real,
    /// As `Real`, scaled out: PostgreSQL through PgBouncer in transaction pooling mode
    /// (statement cache off, migrations on a direct connection), and a Redis Cluster.
    Scaled,
}

/// The stores of one test, kept for as long as its servers run.
pub struct RealStores {
    _database: TestDatabase,
    _redis: Option<TestRedis>,
    _bouncer: Option<Arc<PgBouncer>>,
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:<port>` of the metrics listener.
    pub metrics_address: String,
    /// The mail folder of a server started with [`spawn_app_with_outbox`].
    pub mail_dir: Option<std::path::PathBuf>,
    pub mailer: Arc<RecordingMailer>,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    _stores: Option<RealStores>,
}

/// Points `settings` at a fresh database and a fresh Redis key prefix, which last as long
/// as the handles returned.
pub async fn use_real_stores(settings: &mut Settings) -> RealStores {
    let database = TestDatabase::migrated().await;
    if crate::BACKEND == Backend::Scaled {
        let bouncer = PgBouncer::start();
        settings.database_url = Some(bouncer.url_of(database.name()).into());
        settings.database_migration_url = Some(database.url().to_owned().into());
        settings.database_statement_cache = false;
        settings.redis_cluster_nodes = Some(redis_cluster_nodes().into());
        settings.redis_key_prefix = fresh_key_prefix();
        return RealStores { _database: database, _redis: None, _bouncer: Some(bouncer) };
    }
    let redis = TestRedis::new().await;
    settings.database_url = Some(database.url().to_owned().into());
    settings.redis_url = Some(redis.url().to_owned().into());
    settings.redis_key_prefix = redis.key_prefix().to_owned();
    RealStores { _database: database, _redis: Some(redis), _bouncer: None }
}

/// Gives `settings` a server secret and a token signing key of their own, so every
/// instance started with them shares them.
pub fn with_shared_secrets(settings: &mut Settings) {
    settings.secret_key = Some(KeyedHasher::generate_secret().into());
    settings.token_signing_key = Some(SigningKey::generate().unwrap().to_paserk().into());
}

/// Starts one server for `settings` with the test's mailer and clock, built by the same
/// wiring as the binary; fails the test with instructions when a store is down.
#[allow(dead_code, reason = "used by the api_real binary only")]
pub async fn start_instance(
    settings: &Settings,
    mailer: Arc<RecordingMailer>,
    clock: Arc<ManualClock>,
) -> (String, String, actix_web::dev::ServerHandle) {
    start(settings, Overrides { clock: Some(clock), mailer: Some(mailer), ..Overrides::default() }).await
}

/// Starts one server for `settings` with the test's mailer, on the system clock (for
/// tests that measure real time).
#[allow(dead_code, reason = "used by the api_real binary only")]
pub async fn start_instance_on_system_clock(
    settings: &Settings,
    mailer: Arc<RecordingMailer>,
) -> (String, actix_web::dev::ServerHandle) {
    let (address, _, handle) =
        start(settings, Overrides { mailer: Some(mailer), ..Overrides::default() }).await;
    (address, handle)
}

async fn start(settings: &Settings, overrides: Overrides) -> (String, String, actix_web::dev::ServerHandle) {
    let components = build_components(settings, overrides).await.unwrap_or_else(|error| {
        panic!(
            "cannot prepare the real stores ({error}). These tests need PostgreSQL on 127.0.0.1:5432 \
             (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) and Redis on \
             127.0.0.1:6379 (`redis-server --daemonize yes --save \"\"`), or TEST_DATABASE_URL / TEST_REDIS_URL."
        )
    });
    let app = Application::build(settings, components).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = format!("http://127.0.0.1:{}", app.metrics_port().unwrap_or_default());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    (address, metrics_address, handle)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        drop(tokio::spawn(async move { handle.stop(false).await }));
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(configure, false, None).await
}

/// A server whose mail goes through the real outbox and delivery worker (into a
/// folder of its own) instead of the recording mailer, so the mail counters move as in
/// production. `mailer` then records nothing.
pub async fn spawn_app_with_outbox(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(configure, true, None).await
}

/// A server whose mail goes through the real outbox and delivery workers into
/// `transport` (which may wrap [`TestApp::mailer`], given here).
#[allow(dead_code, reason = "not every binary uses it")]
pub async fn spawn_app_with_transport(
    configure: impl FnOnce(&mut Settings),
    transport: impl FnOnce(Arc<RecordingMailer>) -> Arc<dyn otp_core::ports::Mailer>,
) -> TestApp {
    let mailer = Arc::new(RecordingMailer::new());
    let transport = transport(mailer.clone());
    let mut app = spawn(configure, false, Some(transport)).await;
    app.mailer = mailer;
    app
}

async fn spawn(
    configure: impl FnOnce(&mut Settings),
    outbox: bool,
    transport: Option<Arc<dyn otp_core::ports::Mailer>>,
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        otp_server::bootstrap::telemetry::init(otp_server::bootstrap::settings::LogFormat::Pretty);
    }
    let mut settings =
        Settings { port: 0, metrics_addr: "127.0.0.1:0".to_owned(), workers: Some(2), ..Settings::default() };
    let stores = match crate::BACKEND {
        Backend::Real | Backend::Scaled => Some(use_real_stores(&mut settings).await),
        Backend::Memory => None,
    };
    with_shared_secrets(&mut settings);
    configure(&mut settings);
    let mailer = Arc::new(RecordingMailer::new());
    let clock = Arc::new(ManualClock::starting_now());
    // With no DATABASE_URL or REDIS_URL this gives the in-memory stores.
    if outbox {
        settings.mail_dir = std::env::temp_dir().join(format!("otp-mail-{}", uuid::Uuid::new_v4().simple()));
    }
    let recorded = !outbox && transport.is_none();
    let overrides =
        Overrides { clock: Some(clock.clone()), mailer: recorded.then(|| mailer.clone() as _), transport };
    let (address, metrics_address, handle) = start(&settings, overrides).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mail_dir = outbox.then(|| settings.mail_dir.clone());
    TestApp { address, metrics_address, mail_dir, mailer, clock, client, handle, _stores: stores }
}

pub fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

/// A fresh address per call, so tests never share state by accident.
/// Checks that two code-sent answers are the same but for the address each echoes.
pub async fn assert_same_but_for_email(
    first: reqwest::Response,
    first_email: &str,
    second: reqwest::Response,
    second_email: &str,
) {
    assert_eq!(first.status(), second.status());
    let mut first: serde_json::Value = first.json().await.unwrap();
    let mut second: serde_json::Value = second.json().await.unwrap();
    assert_eq!(first["email"].take(), serde_json::json!(first_email));
    assert_eq!(second["email"].take(), serde_json::json!(second_email));
    assert_eq!(first, second);
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn post_with_token(&self, path: &str, token: &str) -> Response {
        self.client.post(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn delete_with_token(&self, path: &str, token: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    /// The code of the newest message to `address` in the mail folder, if any (servers
    /// started with [`spawn_app_with_outbox`]).
    #[allow(dead_code, reason = "used by the benchmark only")]
    pub fn folder_code(&self, address: &str) -> Option<String> {
        let mut files: Vec<_> =
            std::fs::read_dir(self.mail_dir.as_ref()?).ok()?.flatten().map(|e| e.path()).collect();
        files.sort();
        files.iter().rev().find_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            text.contains(&format!("To: {address}")).then_some(())?;
            text.lines()
                .map(str::trim)
                .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned)
        })
    }

    pub fn last_code(&self, address: &str) -> String {
        self.mailer.last_code_for(&email(address)).expect("a code was mailed")
    }

    pub async fn send_otp(&self, address: &str) -> Response {
        self.post("/auth/send-otp", &json!({ "email": address })).await
    }

    pub async fn verify_otp(&self, address: &str, code: &str) -> Response {
        self.post("/auth/verify-otp", &json!({ "email": address, "code": code })).await
    }

    /// Passwordless sign-in; returns the token response.
    pub async fn sign_in(&self, address: &str) -> Value {
        assert_eq!(self.send_otp(address).await.status(), StatusCode::ACCEPTED);
        let code = self.last_code(address);
        let response = self.verify_otp(address, &code).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Register and verify; returns the token response.
    pub async fn register_verified(&self, address: &str) -> Value {
        let response = self.post("/auth/register", &json!({ "email": address, "password": PASSWORD })).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let code = self.last_code(address);
        let response = self.verify_otp(address, &code).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn login(&self, address: &str, password: &str) -> Response {
        self.post("/auth/login", &json!({ "email": address, "password": password })).await
    }

    /// Refreshes with `refresh_token`; the response.
    pub async fn refresh(&self, refresh_token: impl AsRef<str>) -> Response {
        self.post("/auth/refresh", &json!({ "refresh_token": refresh_token.as_ref() })).await
    }

    /// Moves the clock past the resend cooldown.
    pub fn wait_out_cooldown(&self) {
        self.clock.advance(Duration::from_secs(61));
    }
}

pub fn token(body: &Value, field: &str) -> String {
    body[field].as_str().unwrap_or_else(|| panic!("no {field} in {body}")).to_owned()
}

/// Asserts a problem response with `status` and `code`; returns the body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status for expected code {code}");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().unwrap().ends_with(code));
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

/// The claims of an access token, read from its payload without checking the signature
/// (the payload is the JSON message followed by a 64-byte Ed25519 signature).
pub fn claims_of(access_token: &str) -> Value {
    use base64::Engine;
    let payload = access_token.strip_prefix("v4.public.").unwrap().split('.').next().unwrap();
    let signed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&signed[..signed.len() - 64]).unwrap()
}
