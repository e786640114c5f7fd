//! Storing a plan: each account once, whatever the number of runs.

use super::plan::{ImportPlan, PlannedAccount, SkipReason, Skipped};
use crate::domain::{HashScheme, PasswordHash};
use crate::error::PortError;
use crate::ports::UserRepository;

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Accounts stored (in a dry run: that would be).
    pub imported: usize,
    /// Of those, how many keep a bcrypt password hash until their first log-in.
    pub bcrypt_hashes: usize,
    /// Sources of the imported accounts whose password hash was dropped (a scheme not
    /// accepted); they sign in by code, or set a password by reset.
    pub without_password: Vec<String>,
    /// Records not imported, with the reason.
    pub skipped: Vec<Skipped>,
}

/// The store failed part-way. Accounts stored before stay stored; running the import
/// again resumes (they are then skipped as [`SkipReason::AlreadyPresent`]).
#[derive(Debug, thiserror::Error)]
#[error("storing account {source_record} failed after {imported} imported: {error}")]
pub struct ImportError {
    /// Accounts stored before the failure.
    pub imported: usize,
    /// The record being stored.
    pub source_record: String,
    /// The store's failure.
    #[source]
    pub error: PortError,
}

/// Stores the accounts of `plan` that are not in `users` yet; with `dry_run`, only
/// looks. `progress` is called once per planned account.
///
/// # Errors
/// [`ImportError`] when the store fails (anything but an address already taken).
pub async fn run(
    users: &dyn UserRepository,
    plan: ImportPlan,
    dry_run: bool,
    mut progress: impl FnMut(),
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary { skipped: plan.skipped, ..ImportSummary::default() };
    for planned in plan.accounts {
        let stored = if dry_run { absent(users, &planned).await } else { store(users, &planned).await };
        let stored = stored.map_err(|error| ImportError {
            imported: summary.imported,
            source_record: planned.source.clone(),
            error,
        })?;
        if stored {
            summary.imported += 1;
            if planned.user.password_hash.as_ref().and_then(PasswordHash::scheme) == Some(HashScheme::Bcrypt)
            {
                summary.bcrypt_hashes += 1;
            }
            if planned.password_dropped {
                summary.without_password.push(planned.source);
            }
        } else {
            summary.skipped.push(Skipped {
                source: planned.source,
                email: planned.user.email.as_str().to_owned(),
                reason: SkipReason::AlreadyPresent,
            });
        }
        progress();
    }
    Ok(summary)
}

async fn store(users: &dyn UserRepository, planned: &PlannedAccount) -> Result<bool, PortError> {
    match users.create(&planned.user).await {
        Ok(()) => Ok(true),
        Err(PortError::EmailTaken) => Ok(false),
        Err(error) => Err(error),
    }
}

async fn absent(users: &dyn UserRepository, planned: &PlannedAccount) -> Result<bool, PortError> {
    Ok(users.find_by_email(&planned.user.email).await?.is_none())
}
