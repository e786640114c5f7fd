#![doc = include_str!("../README.md")]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod client_ip;
pub mod config;
mod dto;
mod extract;
pub mod forwarded;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod providers;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod web;
pub mod wiring;

pub use config::Settings;
pub use providers::build_oauth_providers;
pub use startup::{Application, StartupError};
pub use storage::{Storage, build_storage, migrate};
pub use wiring::{Components, build_components, build_secrets};
