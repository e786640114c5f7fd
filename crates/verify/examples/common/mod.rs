//! The verifier of both examples, configured from the environment (copy this file
//! along with the example you start from):
//!
//! - `OTP_KEYS_URL`: the auth server's `/auth/keys`; or `OTP_PUBLIC_KEYS`: PASERK
//!   public keys separated by commas, with `OTP_ISSUER` and `OTP_AUDIENCE`;
//! - `OTP_ISSUER`, `OTP_AUDIENCE` (optional with `OTP_KEYS_URL`, which publishes them);
//! - `OTP_INTROSPECTION_URL` and `OTP_INTROSPECTION_TOKEN` (optional): the auth
//!   server's base URL and this service's credential, to refuse ended sessions at once.

use otp_verify::{Introspection, KeySet, Verifier};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// The verifier the environment describes.
pub fn verifier_from_env() -> Result<Verifier, Box<dyn std::error::Error>> {
    let mut builder = Verifier::builder();
    if let Some(url) = env("OTP_KEYS_URL") {
        builder = builder.keys_url(url);
    } else if let Some(keys) = env("OTP_PUBLIC_KEYS") {
        builder = builder.public_keys(KeySet::parse(&keys)?);
    } else {
        return Err("set OTP_KEYS_URL or OTP_PUBLIC_KEYS".into());
    }
    if let Some(issuer) = env("OTP_ISSUER") {
        builder = builder.issuer(issuer);
    }
    if let Some(audience) = env("OTP_AUDIENCE") {
        builder = builder.audience(audience);
    }
    if let (Some(base), Some(credential)) = (env("OTP_INTROSPECTION_URL"), env("OTP_INTROSPECTION_TOKEN")) {
        builder = builder.liveness(Introspection::new(&base, credential));
    }
    Ok(builder.build()?)
}

/// Where to listen: `BIND_ADDR`, default `127.0.0.1:3000` (`127.0.0.1:0` picks a free port).
pub fn bind_address() -> String {
    env("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned())
}
