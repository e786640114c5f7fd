//! `otp-server`: run the service, migrate its database, print new keys, or check that a
//! running server is healthy.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use otp_core::crypto::{KeyedHasher, SigningKey};
#[cfg(feature = "postgres")]
use otp_postgres::ForeignUsersTable;
use otp_server::bootstrap::{health_check, storage, telemetry};
#[cfg(feature = "postgres")]
use otp_server::import;
use otp_server::{Application, Overrides, Settings, build_components};
use secrecy::ExposeSecret;

/// otp-server: email one-time-code authentication service. Without a command it runs
/// the HTTP server. Configuration comes from the environment and `.env`; see
/// .env.example for every key.
#[derive(Debug, Parser)]
#[command(name = "otp-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Create the database at DATABASE_URL if missing and apply migrations.
    Migrate,
    /// Print a new TOKEN_SIGNING_KEY and SECRET_KEY.
    Keygen,
    /// Ask the server at HOST:PORT for PATH (default /health); exit 0 on a 2xx answer
    /// within 3 seconds, 1 otherwise.
    Healthcheck {
        /// The path to ask for.
        #[arg(value_name = "PATH")]
        paths: Vec<String>,
    },
    /// Import accounts from the Python services into the store DATABASE_URL names.
    /// Re-running imports nothing twice; an interrupted run resumes.
    Import {
        /// Show what would be imported and skipped; write no account (the schema is
        /// still prepared, as at start-up).
        #[arg(long, global = true)]
        dry_run: bool,
        #[command(subcommand)]
        from: ImportFrom,
    },
}

#[derive(Debug, Subcommand)]
enum ImportFrom {
    /// The second service's PostgreSQL `users` table. Column flags name the columns;
    /// `none` leaves one unread.
    Postgres {
        /// The source database (`postgresql+asyncpg://` accepted).
        #[arg(value_name = "SOURCE_URL")]
        url: String,
        /// The table (optionally `schema.table`).
        #[arg(long, default_value = "users")]
        table: String,
        /// The address column.
        #[arg(long, default_value = "email")]
        email_column: String,
        /// The password-hash column (bcrypt, as passlib writes it).
        #[arg(long, default_value = "hashed_password")]
        password_column: String,
        /// The "address proven" column.
        #[arg(long, default_value = "is_verified")]
        verified_column: String,
        /// The "may sign in" column (false: imported disabled).
        #[arg(long, default_value = "is_active")]
        active_column: String,
        /// The creation-time column.
        #[arg(long, default_value = "created_at")]
        created_column: String,
    },
    /// A `mongoexport` file of the first service's `users` collection (JSON lines or a
    /// JSON array): email, is_verified, created_at, last_login.
    Mongoexport {
        /// The exported file.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match cli.command {
        None | Some(Command::Serve) => serve(),
        Some(Command::Keygen) => keygen(),
        Some(Command::Migrate) => migrate(),
        Some(Command::Healthcheck { paths }) => healthcheck(paths),
        Some(Command::Import { dry_run, from }) => import_accounts(from, dry_run),
    }
}

/// `none` as a column name: the column is not read.
#[cfg(feature = "postgres")]
fn column(name: String) -> Option<String> {
    (!name.eq_ignore_ascii_case("none")).then_some(name)
}

/// Without the `postgres` feature there is no store to import into.
#[cfg(not(feature = "postgres"))]
fn import_accounts(_from: ImportFrom, _dry_run: bool) -> ExitCode {
    eprintln!(
        "otp-server import: this otp-server was built without the `postgres` feature, which the import \
         needs (it writes the accounts to DATABASE_URL); build it with `--features postgres`"
    );
    ExitCode::from(78)
}

#[cfg(feature = "postgres")]
fn import_accounts(from: ImportFrom, dry_run: bool) -> ExitCode {
    let settings = match load_settings_logging(true) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let source = match from {
        ImportFrom::Postgres {
            url,
            table,
            email_column,
            password_column,
            verified_column,
            active_column,
            created_column,
        } => import::Source::Postgres {
            url,
            table: ForeignUsersTable {
                table,
                email: email_column,
                password_hash: column(password_column),
                verified: column(verified_column),
                active: column(active_column),
                created_at: column(created_column),
            },
        },
        ImportFrom::Mongoexport { file } => import::Source::Mongoexport(file),
    };
    let Some(runtime) = runtime() else { return ExitCode::FAILURE };
    match runtime.block_on(import::run(&settings, &source, dry_run)) {
        Ok(summary) => {
            print!("{}", import::report(&summary, dry_run));
            ExitCode::SUCCESS
        }
        Err(error @ import::ImportFailure::Store(_)) => {
            eprintln!("otp-server import: {error}");
            ExitCode::from(78)
        }
        Err(error) => {
            eprintln!("otp-server import: {error}");
            ExitCode::FAILURE
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
    println!("# Signing secret of webhook requests (Standard Webhooks), shared with the receivers.");
    println!("WEBHOOK_SECRET={}", otp_core::crypto::WebhookSigner::generate_secret());
    ExitCode::SUCCESS
}

/// Exit 0 when the running server answers `PATH` (default `/health`) with 2xx, 1
/// otherwise: for container health checks in an image that has no curl.
fn healthcheck(arguments: Vec<String>) -> ExitCode {
    let path = match arguments.as_slice() {
        [] => health_check::DEFAULT_PATH,
        [path] => path.as_str(),
        _ => {
            eprintln!("otp-server healthcheck takes at most one PATH");
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
    load_settings_logging(false)
}

/// As [`load_settings`]; with `on_stderr`, log lines go to standard error.
fn load_settings_logging(on_stderr: bool) -> Result<Settings, ExitCode> {
    let (settings, notes) = Settings::load_with_notes().map_err(|error| {
        eprintln!("otp-server: {error}");
        ExitCode::from(78)
    })?;
    if on_stderr {
        telemetry::init_on_stderr(settings.log_format());
    } else {
        telemetry::init(settings.log_format());
    }
    for note in notes {
        tracing::info!(setting = %note, "configuration alias");
    }
    Ok(settings)
}

fn migrate() -> ExitCode {
    let settings = match load_settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Some(url) = settings.migration_url() else {
        eprintln!("otp-server migrate: neither DATABASE_MIGRATION_URL nor DATABASE_URL is set");
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
    let mongodb = Settings::mongodb_keys_set();
    if !mongodb.is_empty() {
        tracing::warn!(
            keys = %mongodb.join(", "),
            "MongoDB is not a store here: these keys are ignored; accounts live in DATABASE_URL's PostgreSQL \
             (or in memory without it). Bring the MongoDB accounts over with `otp-server import mongoexport FILE` \
             (docs/migrating.md)"
        );
    }
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
