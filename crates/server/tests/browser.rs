//! Browser end-to-end tests: the real `otp-server` binary on its embedded default, and
//! the web page driven in headless Chromium by the scenarios in `tests/browser/`
//! (Node.js with playwright-core, using the system's `/usr/bin/chromium`).
//!
//! `scripts/browser-tools.sh` installs Chromium and the npm packages; nextest runs it
//! before this binary (`.config/nextest.toml`). Each test starts its own server with a
//! mail folder of its own, runs one scenario with `BASE_URL` and `MAIL_DIR`, and fails
//! with the scenario's output.
//!
//! `UPDATE_SCREENSHOTS=1` makes the scenarios that take screenshots write them to
//! `docs/screenshots/` (otherwise they go to a temporary folder):
//! `UPDATE_SCREENSHOTS=1 cargo nextest run -p otp-server --test browser screenshots phone docs`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/process.rs"]
mod process;
use process::start;

/// How long one scenario may take.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(100);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn require_tools(root: &Path) {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let missing: Vec<&str> = [
        (!Path::new(&chromium).exists()).then_some("Chromium"),
        (!root.join("tests/browser/node_modules/playwright-core").exists()).then_some("npm packages"),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(
        missing.is_empty(),
        "{} missing: run scripts/browser-tools.sh (cargo nextest runs it before these tests)",
        missing.join(" and ")
    );
}

/// Runs `tests/browser/<name>.mjs` against a fresh server and fails with its output.
fn scenario(name: &str, server_env: &[(&str, &str)]) {
    scenario_with(name, server_env, &[]);
}

/// As [`scenario`], with more environment for the scenario script.
fn scenario_with(name: &str, server_env: &[(&str, &str)], script_env: &[(&str, &str)]) {
    let root = workspace_root();
    require_tools(&root);
    let server = start(server_env);
    let screenshots = tempfile::tempdir().unwrap();
    let screenshot_dir = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        root.join("docs/screenshots")
    } else {
        screenshots.path().to_path_buf()
    };
    let mut child = Command::new("node")
        .arg(root.join(format!("tests/browser/{name}.mjs")))
        .current_dir(root.join("tests/browser"))
        .env("BASE_URL", &server.address)
        .env("MAIL_DIR", &server.mail_dir)
        .env("SCREENSHOT_DIR", &screenshot_dir)
        .envs(script_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (install Node.js 18 or newer)");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > SCENARIO_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!("{}{}", out.join().unwrap(), err.join().unwrap());
    match status {
        Some(status) if status.success() => {}
        Some(status) => panic!("scenario {name} failed ({status}):\n{output}"),
        None => panic!("scenario {name} did not finish within {SCENARIO_TIMEOUT:?}:\n{output}"),
    }
}

#[test]
fn passwordless_sign_in_end_to_end() {
    scenario("passwordless", &[]);
}

#[test]
fn register_verify_and_log_in_with_the_code_step() {
    scenario("register", &[("OTP_RESEND_COOLDOWN_SECONDS", "1")]);
}

#[test]
fn change_password_change_email_and_delete_the_account_through_the_page() {
    scenario("account", &[]);
}

#[test]
fn a_wrong_code_shows_the_error() {
    scenario("wrong-code", &[]);
}

#[test]
fn resend_counts_down_from_retry_after() {
    scenario("resend", &[("OTP_RESEND_COOLDOWN_SECONDS", "3")]);
}

#[test]
fn sessions_and_logout() {
    scenario("logout", &[("OTP_RESEND_COOLDOWN_SECONDS", "1")]);
}

#[test]
fn phone_width() {
    scenario("phone", &[]);
}

#[test]
fn docs_render_swagger_ui_and_openapi_json_validates_as_openapi_3_1() {
    scenario("docs", &[]);
}

#[test]
fn screenshots_of_the_main_screens() {
    scenario("screenshots", &[("OTP_RESEND_COOLDOWN_SECONDS", "1")]);
}

#[test]
fn oauth_buttons_and_the_callback_page() {
    scenario("oauth", &[]);
}

#[test]
fn sign_in_with_google_and_github_through_the_real_routes() {
    use otp_oauth::testing::{CLIENT_ID, CLIENT_SECRET, FakePerson, FakeProvider};

    // The fakes run on wiremock's own threads; the runtime only starts them.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let google_email = "gina.google@example.com";
    let github_email = "gil.github@example.com";
    let (google, github) = runtime.block_on(async {
        let google = FakeProvider::google().await;
        google.consent_in_browser_as(FakePerson::random(google_email)).await;
        let github = FakeProvider::github().await;
        github.consent_in_browser_as(FakePerson::random(github_email)).await;
        (google, github)
    });
    // The redirect URI is configured before the server starts, so its port is chosen here.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let server_env = [
        ("PORT", port.as_str()),
        ("GOOGLE_CLIENT_ID", CLIENT_ID),
        ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET),
        ("GOOGLE_REDIRECT_URI", &redirect_uri),
        ("GOOGLE_AUTH_URL", &google.auth_url()),
        ("GOOGLE_TOKEN_URL", &google.token_url()),
        ("GOOGLE_JWKS_URL", &google.jwks_url()),
        ("GOOGLE_ISSUER", &google.uri()),
        ("GITHUB_CLIENT_ID", CLIENT_ID),
        ("GITHUB_CLIENT_SECRET", CLIENT_SECRET),
        ("GITHUB_REDIRECT_URI", &redirect_uri),
        ("GITHUB_AUTH_URL", &github.auth_url()),
        ("GITHUB_TOKEN_URL", &github.token_url()),
        ("GITHUB_API_URL", &github.api_url()),
    ];
    let script_env = [
        ("PROVIDER_ORIGINS", format!("{},{}", google.uri(), github.uri())),
        ("GOOGLE_EMAIL", google_email.to_owned()),
        ("GITHUB_EMAIL", github_email.to_owned()),
    ];
    let script_env: Vec<(&str, &str)> =
        script_env.iter().map(|(key, value)| (*key, value.as_str())).collect();
    scenario_with("oauth-providers", &server_env, &script_env);
}

/// The second Python service's front end (a copy in `tests/browser/second-service/`)
/// served from another origin, as its default `http://127.0.0.1:5500` is, runs against
/// otp-server once its `FRONTEND_URL` names that origin.
#[test]
fn the_second_services_front_end_runs_from_another_origin() {
    let front_port =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let front = format!("http://127.0.0.1:{front_port}");
    let redirect_uri = format!("{front}/index.html");
    // Nothing listens there: the scenario intercepts the browser's visit.
    let provider = "http://127.0.0.1:9";
    let auth_url = format!("{provider}/o/oauth2/v2/auth");
    let server_env = [
        ("FRONTEND_URL", front.as_str()),
        ("GOOGLE_CLIENT_ID", "front-end-test-client"),
        ("GOOGLE_CLIENT_SECRET", "front-end-test-secret"),
        ("GOOGLE_REDIRECT_URI", redirect_uri.as_str()),
        ("GOOGLE_AUTH_URL", auth_url.as_str()),
    ];
    scenario_with(
        "second-service",
        &server_env,
        &[("FRONT_PORT", front_port.as_str()), ("PROVIDER_ORIGIN", provider)],
    );
}

#[test]
fn the_sign_in_link_fills_the_code_in_and_signs_in_only_on_the_button() {
    // PUBLIC_URL must name the server before it starts: pick its port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let public_url = format!("http://127.0.0.1:{port}");
    scenario("sign-in-link", &[("PORT", &port), ("PUBLIC_URL", &public_url)]);
}

#[test]
fn the_page_speaks_the_language_asked_for_and_names_the_product() {
    scenario("page-language", &[("APP_NAME", "Acme ID")]);
}
