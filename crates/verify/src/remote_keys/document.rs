//! The JSON of `GET /auth/keys`.

use serde::Deserialize;

use crate::keys::{KeySet, PublicKey};
use crate::token::Expectations;

/// Most keys read from one answer (the server publishes the current and a few earlier).
const MAX_KEYS: usize = 32;

#[derive(Deserialize)]
struct KeysDocument {
    issuer: String,
    audience: String,
    keys: Vec<PublishedKey>,
}

#[derive(Deserialize)]
struct PublishedKey {
    kid: String,
    paserk: String,
    version: String,
    purpose: String,
}

/// The keys and the issuer and audience an `/auth/keys` answer publishes. Keys of
/// another version or purpose are skipped; a key whose published `kid` is not the id
/// of its PASERK is skipped too (the id is always computed, never trusted).
pub(crate) fn parse(body: &[u8]) -> Result<(KeySet, Expectations), String> {
    let document: KeysDocument = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    if document.issuer.is_empty() || document.audience.is_empty() {
        return Err("issuer and audience must not be empty".to_owned());
    }
    let mut keys = KeySet::new();
    for published in document.keys.iter().take(MAX_KEYS) {
        if published.version != "v4" || published.purpose != "public" {
            continue;
        }
        match PublicKey::from_paserk(&published.paserk) {
            Ok(key) if key.kid() == published.kid => keys.insert(key),
            Ok(key) => {
                tracing::warn!(published = %published.kid, computed = %key.kid(), "skipping a published key whose kid is not its id");
            }
            Err(error) => tracing::warn!(%error, kid = %published.kid, "skipping a published key"),
        }
    }
    if keys.is_empty() {
        return Err("no v4.public key".to_owned());
    }
    Ok((keys, Expectations { issuer: document.issuer, audience: document.audience }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::tests::generated;

    fn key_json(paserk: &str) -> serde_json::Value {
        let kid = PublicKey::from_paserk(paserk).unwrap().kid().to_owned();
        json!({"kid": kid, "paserk": paserk, "version": "v4", "purpose": "public", "current": true})
    }

    #[test]
    fn reads_the_servers_answer() {
        let (_, first) = generated();
        let (_, second) = generated();
        let body = json!({"issuer": "otp-auth", "audience": "clients", "keys": [key_json(&first), key_json(&second)]});
        let (keys, expected) = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!((expected.issuer.as_str(), expected.audience.as_str()), ("otp-auth", "clients"));
    }

    #[test]
    fn skips_keys_it_cannot_use_or_whose_id_lies() {
        let (_, good) = generated();
        let (_, other) = generated();
        let mut lying = key_json(&other);
        lying["kid"] = key_json(&good)["kid"].clone();
        let mut local = key_json(&other);
        local["purpose"] = json!("local");
        let body = json!({"issuer": "i", "audience": "a", "keys": [lying, local, key_json(&good), {"kid": "k4.pid.x", "paserk": "junk", "version": "v4", "purpose": "public"}]});
        let (keys, _) = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(keys.iter().map(PublicKey::to_paserk).collect::<Vec<_>>(), [good]);
    }

    #[test]
    fn refuses_answers_without_a_usable_key_or_expectations() {
        assert!(parse(br#"{"issuer": "i", "audience": "a", "keys": []}"#).is_err());
        assert!(parse(b"<html>").is_err());
        let (_, key) = generated();
        let body = json!({"issuer": "", "audience": "a", "keys": [key_json(&key)]});
        assert!(parse(body.to_string().as_bytes()).is_err());
    }
}
