//! otp-verify against tokens minted by otp-core, keys and introspection served by a
//! real local HTTP server (wiremock), and the actix-web and axum integrations over
//! real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actix;
mod axum;
mod fixed_keys;
mod liveness;
mod remote_keys;
mod support;
