//! `otp-server`: run the service, migrate its database, print new keys, or check that a
//! running server is healthy.

use std::process::ExitCode;

use otp_core::crypto::{KeyedHasher, SigningKey};
use otp_server::bootstrap::{health_check, storage, telemetry};
use otp_server::{Application, Overrides, Settings, build_components};
use secrecy::ExposeSecret;

const USAGE: &str = "\
otp-server: email one-time-code authentication service

USAGE:
    otp-server [serve]   run the HTTP server (configuration from the environment and .env)
    otp-server migrate   create the database at DATABASE_URL if missing and apply migrations
    otp-server keygen    print a new TOKEN_SIGNING_KEY and SECRET_KEY
    otp-server healthcheck [PATH]
                         ask the server at HOST:PORT for PATH (default /health);
                         exit 0 on a 2xx answer within 3 seconds, 1 otherwise
    otp-server --help    print this text

See .env.example for every configuration key.";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    match command.as_deref() {
        None | Some("serve") => serve(),
        Some("keygen") => keygen(),
        Some("migrate") => migrate(),
        Some("healthcheck") => healthcheck(std::env::args().skip(2).collect()),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("otp-server {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn keygen() -> ExitCode {
    let Ok(key) = SigningKey::generate() else {
        eprintln!("could not generate a key: the system random source failed");
        return ExitCode::FAILURE;
    };
    println!("# Signing key for access tokens. Keep it secret.");
    println!("TOKEN_SIGNING_KEY={}", key.to_paserk());
    println!("# Its public half ({}), for services that verify tokens offline:", key.verifying_key().kid());
    println!("# {}", key.verifying_key().to_paserk());
    println!("# Server secret for keyed hashes of codes and refresh tokens. Keep it secret.");
    println!("SECRET_KEY={}", KeyedHasher::generate_secret());
    ExitCode::SUCCESS
}

/// Exit 0 when the running server answers `PATH` (default `/health`) with 2xx, 1
/// otherwise: for container health checks in an image that has no curl.
fn healthcheck(arguments: Vec<String>) -> ExitCode {
    let path = match arguments.as_slice() {
        [] => health_check::DEFAULT_PATH,
        [path] => path.as_str(),
        _ => {
            eprintln!("otp-server healthcheck takes at most one PATH\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("otp-server healthcheck: {error}");
            return ExitCode::FAILURE;
        }
    };
    let checked = health_check::target(&settings.host, settings.port)
        .and_then(|address| health_check::check(address, path, health_check::TIMEOUT));
    match checked {
        Ok(status) => {
            println!("healthy: {path} answered {status}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("otp-server healthcheck: {error}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprintln!("otp-server: starting the runtime: {error}");
            None
        }
    }
}

/// Reads the configuration and starts logging; exit code 78 (EX_CONFIG) when the
/// configuration cannot be read.
fn load_settings() -> Result<Settings, ExitCode> {
    let settings = Settings::load().map_err(|error| {
        eprintln!("otp-server: {error}");
        ExitCode::from(78)
    })?;
    telemetry::init(settings.log_format());
    Ok(settings)
}

fn migrate() -> ExitCode {
    let settings = match load_settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some(url) = settings.database_url.as_ref() else {
        eprintln!("otp-server migrate: DATABASE_URL is not set");
        return ExitCode::from(78);
    };
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    match runtime.block_on(storage::migrate(url.expose_secret())) {
        Ok(applied) if applied.is_empty() => {
            println!("database is up to date");
            ExitCode::SUCCESS
        }
        Ok(applied) => {
            println!("applied migrations: {}", applied.join(", "));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("otp-server migrate: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> ExitCode {
    let settings = match load_settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    runtime.block_on(async {
        let started = match build_components(&settings, Overrides::default()).await {
            Ok(components) => Application::build(&settings, components),
            Err(error) => Err(error),
        };
        let app = match started {
            Ok(app) => app,
            Err(error) => {
                tracing::error!(%error, "cannot start");
                eprintln!("otp-server: {error}");
                return ExitCode::from(78);
            }
        };
        let metrics = app.metrics_port().map(|port| {
            let host = settings.metrics_addr.rsplit_once(':').map_or("127.0.0.1", |(host, _)| host);
            format!("http://{host}:{port}/metrics")
        });
        tracing::info!(
            address = %format!("http://{}:{}", settings.host, app.port()),
            metrics = metrics.as_deref().unwrap_or("off"),
            "listening"
        );
        match app.run_until_stopped().await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!(%error, "server failed");
                ExitCode::FAILURE
            }
        }
    })
}
