#![doc = include_str!("../README.md")]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod bootstrap;
pub mod http;
#[cfg(feature = "postgres")]
pub mod import;

pub use bootstrap::{Application, Components, Overrides, Settings, StartupError, build_components};
