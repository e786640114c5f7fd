//! Errors: [`PgError`] for set-up, and the translation of diesel and pool failures
//! into [`PortError`] for the port methods.

use otp_core::{BoxError, PortError};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;

/// The unique index on `lower(users.email)` (see the migrations).
const USERS_EMAIL_KEY: &str = "users_email_lower_key";
/// The primary key of `identities`: (provider, subject).
const IDENTITIES_KEY: &str = "identities_pkey";
/// The references from an account's sessions, devices and linked identities to its
/// row in `users`.
const ACCOUNT_REFERENCES: [&str; 3] =
    ["sessions_user_id_fkey", "devices_user_id_fkey", "identities_user_id_fkey"];

/// Why setting up the database (pool, database creation, migrations) failed.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The configuration cannot work (an unparsable URL, a pool of no connections).
    #[error("invalid PostgreSQL configuration: {0}")]
    InvalidConfig(String),
    /// The connection pool could not be built.
    #[error("cannot build the PostgreSQL connection pool: {0}")]
    Pool(#[source] deadpool::managed::BuildError),
    /// No connection could be made (refused, timed out, or authentication failed).
    #[error("cannot connect to PostgreSQL ({context}): {source}")]
    Connect {
        /// What the connection was for.
        context: &'static str,
        /// The driver's or the pool's error.
        #[source]
        source: BoxError,
    },
    /// A statement failed.
    #[error("{context}: {source}")]
    Query {
        /// What was being done.
        context: &'static str,
        /// Diesel's error.
        #[source]
        source: DieselError,
    },
    /// A migration failed, or the task running them did not finish.
    #[error("running the migrations: {0}")]
    Migration(#[source] BoxError),
    /// Another service's accounts could not be read (a missing table or column, or one
    /// of another type).
    #[error("reading the accounts in {table}: {source}")]
    ReadForeign {
        /// The table named.
        table: String,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

/// A port failure with what was being done, kept as the cause of a [`PortError`].
#[derive(Debug, thiserror::Error)]
#[error("{action}: {source}")]
pub(crate) struct Failure {
    action: &'static str,
    #[source]
    source: BoxError,
}

impl Failure {
    pub(crate) fn new(action: &'static str, source: impl Into<BoxError>) -> Self {
        Self { action, source: source.into() }
    }
}

/// A pool failure: every kind means the database cannot serve us now, except a
/// pool built without a runtime, which is a bug of ours.
pub(crate) fn from_pool(action: &'static str, error: PoolError) -> PortError {
    match error {
        PoolError::NoRuntimeSpecified => PortError::failed(Failure::new(action, error)),
        PoolError::Timeout(_) | PoolError::Backend(_) | PoolError::Closed | PoolError::PostCreateHook(_) => {
            PortError::unavailable(Failure::new(action, error))
        }
    }
}

/// A statement failure: the two unique keys the ports name become their errors, a
/// row whose account was deleted meanwhile `AccountGone`, a lost connection
/// `Unavailable`, anything else `Failed`.
pub(crate) fn from_query(action: &'static str, error: DieselError) -> PortError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            match info.constraint_name() {
                Some(USERS_EMAIL_KEY) => PortError::EmailTaken,
                Some(IDENTITIES_KEY) => PortError::IdentityTaken,
                _ => PortError::failed(Failure::new(action, error)),
            }
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
            if info.constraint_name().is_some_and(|name| ACCOUNT_REFERENCES.contains(&name)) =>
        {
            PortError::AccountGone
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection,
            _,
        ) => PortError::unavailable(Failure::new(action, error)),
        _ => PortError::failed(Failure::new(action, error)),
    }
}

/// A stored value the domain refuses (a corrupt row).
pub(crate) fn corrupt(action: &'static str, what: impl Into<BoxError>) -> PortError {
    PortError::failed(Failure::new(action, what))
}
