//! `otp-server import`: accounts from the two Python services into the store
//! `DATABASE_URL` names. Reading the source is here (the PostgreSQL table through
//! otp-postgres, the `mongoexport` file in [`mongoexport`]); what comes over and how
//! is decided by [`otp_core::import`].

pub mod mongoexport;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use otp_core::import::{self, ForeignAccount, ImportSummary};
use otp_core::ports::UserRepository;
use otp_postgres::{ForeignUsersTable, PgConfig, PgUserRepository};
use secrecy::ExposeSecret;

use crate::bootstrap::{Settings, aliases, storage};

/// Imports of at least this many accounts show a progress bar (on a terminal).
const PROGRESS_FROM: usize = 100;

/// Where the accounts come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The second service's PostgreSQL table (its URL may carry SQLAlchemy's driver suffix).
    Postgres {
        /// The source database.
        url: String,
        /// The table and its column names.
        table: ForeignUsersTable,
    },
    /// A `mongoexport` file of the first service's `users` collection.
    Mongoexport(PathBuf),
}

/// Why an import could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// `DATABASE_URL` is unset or the store cannot be prepared.
    #[error("{0}")]
    Store(String),
    /// The source cannot be read.
    #[error("{0}")]
    Source(String),
    /// Storing failed part-way (run again to resume).
    #[error("{0}; run the import again to resume")]
    Interrupted(#[from] import::ImportError),
}

/// Reads `source`, plans and (unless `dry_run`) stores the accounts.
///
/// # Errors
/// [`ImportFailure`] as its variants say.
pub async fn run(
    settings: &Settings,
    source: &Source,
    dry_run: bool,
) -> Result<ImportSummary, ImportFailure> {
    let Some(url) = settings.database_url.as_ref().map(|url| url.expose_secret().to_owned()) else {
        return Err(ImportFailure::Store(
            "DATABASE_URL is not set: accounts are imported into PostgreSQL, the store the server then uses"
                .into(),
        ));
    };
    let records = read(source).await?;
    // The schema is prepared in a dry run too (as at the server's start-up); no account is written.
    if settings.run_migrations() {
        storage::migrate(&url).await.map_err(|error| ImportFailure::Store(error.to_string()))?;
    }
    let pool = otp_postgres::connect(&PgConfig::new(url))
        .await
        .map_err(|error| ImportFailure::Store(format!("{error}")))?;
    let users: Arc<dyn UserRepository> = Arc::new(PgUserRepository::new(pool));
    let plan = import::plan(records, time::OffsetDateTime::now_utc());
    let progress = progress_bar(plan.accounts.len());
    let summary = import::run(users.as_ref(), plan, dry_run, || progress.inc(1)).await;
    progress.finish_and_clear();
    Ok(summary?)
}

async fn read(source: &Source) -> Result<Vec<ForeignAccount>, ImportFailure> {
    match source {
        Source::Postgres { url, table } => {
            let url = aliases::strip_driver_suffix(url).map_or_else(|| url.clone(), |(url, _)| url);
            otp_postgres::read_foreign_users(&url, table)
                .await
                .map_err(|error| ImportFailure::Source(causes(&error)))
        }
        Source::Mongoexport(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| ImportFailure::Source(format!("reading {}: {error}", path.display())))?;
            mongoexport::parse(&text)
                .map_err(|error| ImportFailure::Source(format!("{}: {error}", path.display())))
        }
    }
}

fn progress_bar(total: usize) -> ProgressBar {
    if total < PROGRESS_FROM {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} accounts ({eta} left)") {
        bar.set_style(style);
    }
    bar
}

/// `error: cause: cause of the cause` (the driver's own message is in a cause).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let _ = write!(text, ": {inner}");
        cause = inner.source();
    }
    text
}

/// The summary for people: counts first, then each skipped record and why.
pub fn report(summary: &ImportSummary, dry_run: bool) -> String {
    let verb = if dry_run { "would import" } else { "imported" };
    let mut text = format!("{verb} {} accounts, skipped {}\n", summary.imported, summary.skipped.len());
    for skipped in &summary.skipped {
        let _ = writeln!(text, "  skipped {} ({}): {}", skipped.source, skipped.email, skipped.reason);
    }
    if !summary.without_password.is_empty() {
        let _ = writeln!(
            text,
            "{verb} without a password (hash in a scheme not accepted; they sign in by code or reset it): {}",
            summary.without_password.join(", ")
        );
    }
    if summary.bcrypt_hashes > 0 {
        let _ = writeln!(
            text,
            "{} of them keep a bcrypt password hash until their first log-in: set IMPORTED_BCRYPT_HASHES=true \
             so that every log-in spends the same work (see docs/migrating.md#password-hashes)",
            summary.bcrypt_hashes
        );
    }
    if dry_run {
        text.push_str("dry run: no account was written\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use otp_core::import::{SkipReason, Skipped};

    use super::*;

    #[test]
    fn the_report_counts_and_names_each_skipped_record() {
        let summary = ImportSummary {
            imported: 2,
            bcrypt_hashes: 1,
            without_password: vec!["users row 3".into()],
            skipped: vec![Skipped {
                source: "users row 4".into(),
                email: "ann@example.com".into(),
                reason: SkipReason::AlreadyPresent,
            }],
        };
        let text = report(&summary, false);
        assert!(text.starts_with("imported 2 accounts, skipped 1\n"), "{text}");
        assert!(text.contains("  skipped users row 4 (ann@example.com): already present\n"), "{text}");
        assert!(text.contains("without a password") && text.contains("users row 3"), "{text}");
        assert!(
            text.contains("1 of them keep a bcrypt password hash")
                && text.contains("IMPORTED_BCRYPT_HASHES=true")
        );
        assert!(
            report(&summary, true).contains("would import 2 accounts")
                && report(&summary, true).contains("dry run")
        );
    }
}
