#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod composer;
mod dkim;
mod error;
mod link;
mod messages;
mod renderer;
mod sources;

pub use composer::{Composer, ComposerConfig};
pub use dkim::DkimSigner;
pub use error::MailError;
pub use renderer::{MailRenderer, RenderedMail, RendererConfig};
