//! Fakes for tests (feature `testing`): a fake Google and a fake GitHub on a local HTTP
//! server, and the test-only keys that sign the fake Google's ID tokens.
//!
//! ```rust,ignore
//! let google = FakeProvider::google().await;
//! let provider = GoogleProvider::new(google.google_config())?;
//! // ... start a sign-in, then play the person consenting:
//! let authorized = google.authorize(&auth_url, &FakePerson::random("ann@example.com"));
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod fake;
mod keys;

pub use fake::{Authorized, CLIENT_ID, CLIENT_SECRET, FakeKind, FakePerson, FakeProvider, IdTokenTweak};
pub use keys::{IdTokenContent, TestKey};
