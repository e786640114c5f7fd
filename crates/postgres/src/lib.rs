#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod audit_log;
mod connection;
mod devices;
mod error;
mod foreign_users;
mod identities;
mod limit;
mod outbox;
mod pool;
mod prepared;
mod probe;
mod purge;
mod rounds;
mod schema;
mod sessions;
mod sessions_on_devices;
mod setup;
mod users;
mod webhooks;

pub use audit_log::PgAuditLog;
pub use devices::PgDeviceRepository;
pub use error::PgError;
pub use foreign_users::{ForeignUsersTable, read_foreign_users};
pub use identities::PgIdentityRepository;
pub use outbox::PgOutbox;
pub use pool::{PgConfig, PgPool, build_pool, connect};
pub use probe::PgProbe;
pub use sessions::PgSessionRepository;
pub use setup::{
    MIGRATIONS, SETUP_CONNECT_TIMEOUT, create_database_if_missing, drop_database, run_migrations,
};
pub use users::PgUserRepository;
pub use webhooks::PgWebhookOutbox;
