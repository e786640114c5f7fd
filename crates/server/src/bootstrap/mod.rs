//! The bootstrap room: settings, the choice of storage, mail and sign-in providers, the
//! wiring of the services on them, and start-up. It builds what [`crate::http`] serves.

pub mod aliases;
pub mod application;
pub mod error;
pub mod health_check;
pub mod mail;
mod mail_delivery;
mod pools;
pub mod providers;
pub mod secrets;
pub mod settings;
pub mod storage;
pub mod telemetry;
pub mod wiring;

pub use application::Application;
pub use error::StartupError;
pub use settings::Settings;
pub use wiring::{Components, Overrides, build_components};
