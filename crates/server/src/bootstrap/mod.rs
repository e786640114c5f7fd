//! The bootstrap room: settings, the choice of storage, mail and sign-in providers, the
//! wiring of the services on them, and start-up. It builds what [`crate::http`] serves.

pub mod aliases;
pub mod application;
pub mod error;
pub mod health_check;
pub mod mail;
mod mail_delivery;
#[cfg(any(feature = "postgres", feature = "redis"))]
mod pools;
#[cfg(feature = "oauth")]
pub mod providers;
#[cfg(not(feature = "oauth"))]
#[path = "providers_without_oauth.rs"]
pub mod providers;
mod purge;
pub mod secrets;
pub mod settings;
pub mod storage;
pub mod telemetry;
mod webhook_delivery;
pub mod webhooks;
pub mod wiring;

pub use application::Application;
pub use error::StartupError;
pub use settings::Settings;
pub use wiring::{Components, Overrides, build_components};
