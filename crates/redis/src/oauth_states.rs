//! Pending provider sign-ins in Redis: one JSON string per state, written with a TTL and
//! taken with `GETDEL`.

use async_trait::async_trait;
use deadpool_redis::redis;
use otp_core::PortError;
use otp_core::crypto::{StateHash, TokenHash};
use otp_core::ports::{EXPIRED_STATE_RETENTION, OAuthStateStore, PendingAuthorization};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::RedisPool;
use crate::error::{from_pool, from_redis, unexpected};
use crate::millis::{duration_ms, ttl_ms, unix_ms};

/// The stored form of a [`PendingAuthorization`].
#[derive(Serialize, Deserialize)]
struct StoredState {
    provider: String,
    code_verifier: String,
    nonce: String,
    redirect_uri: String,
    /// Hex of the client-binding hash. Records written before it existed have none
    /// and match no binding (their sign-in is started again).
    #[serde(default)]
    client_binding: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

impl From<&PendingAuthorization> for StoredState {
    fn from(pending: &PendingAuthorization) -> Self {
        Self {
            provider: pending.provider.clone(),
            code_verifier: pending.code_verifier.clone(),
            nonce: pending.nonce.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            client_binding: pending.client_binding.to_hex(),
            expires_at: pending.expires_at,
        }
    }
}

impl From<StoredState> for PendingAuthorization {
    fn from(stored: StoredState) -> Self {
        Self {
            provider: stored.provider,
            code_verifier: stored.code_verifier,
            nonce: stored.nonce,
            redirect_uri: stored.redirect_uri,
            client_binding: TokenHash::from_hex(&stored.client_binding)
                .unwrap_or(TokenHash::from_bytes([0; 32])),
            expires_at: stored.expires_at,
        }
    }
}

/// [`OAuthStateStore`] on Redis, shared by every process that uses the same Redis and
/// key prefix, so a sign-in started on one instance completes on any other.
///
/// Key, under the pool's prefix: `{prefix}oauth_state:{hash}`, a string holding the
/// pending sign-in as JSON, where `{hash}` is the domain's keyed hash of the state in
/// hex (the state itself never reaches Redis). It is written with `SET ... PX` until the
/// sign-in's expiry plus [`EXPIRED_STATE_RETENTION`], and taken with `GETDEL`, which is
/// atomic: one state is taken once. Needs Redis 6.2 or later (`GETDEL`).
#[derive(Debug, Clone)]
pub struct RedisOAuthStateStore {
    pool: RedisPool,
}

impl RedisOAuthStateStore {
    /// A store on `pool`, under the pool's key prefix.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }

    fn key(&self, key: &StateHash) -> String {
        format!("{}oauth_state:{}", self.pool.key_prefix(), key.to_hex())
    }
}

#[async_trait]
impl OAuthStateStore for RedisOAuthStateStore {
    async fn put(
        &self,
        key: &StateHash,
        pending: &PendingAuthorization,
        now: OffsetDateTime,
    ) -> Result<(), PortError> {
        const CONTEXT: &str = "storing a pending sign-in";
        let keep_until = unix_ms(pending.expires_at).saturating_add(duration_ms(EXPIRED_STATE_RETENTION));
        let ttl = ttl_ms(unix_ms(now), keep_until);
        if ttl <= 0 {
            return Ok(());
        }
        let value = serde_json::to_string(&StoredState::from(pending))
            .map_err(|error| PortError::failed(format!("{CONTEXT}: {error}")))?;
        let redis_key = self.key(key);
        self.pool
            .within_deadline(CONTEXT, async {
                let mut connection = self.pool.get().await.map_err(|error| from_pool(CONTEXT, error))?;
                redis::cmd("SET")
                    .arg(&redis_key)
                    .arg(&value)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut *connection)
                    .await
                    .map_err(|error| from_redis(CONTEXT, error))
            })
            .await
    }

    async fn take(&self, key: &StateHash) -> Result<Option<PendingAuthorization>, PortError> {
        const CONTEXT: &str = "taking a pending sign-in";
        let redis_key = self.key(key);
        let stored: Option<String> = self
            .pool
            .within_deadline(CONTEXT, async {
                let mut connection = self.pool.get().await.map_err(|error| from_pool(CONTEXT, error))?;
                redis::cmd("GETDEL")
                    .arg(&redis_key)
                    .query_async(&mut *connection)
                    .await
                    .map_err(|error| from_redis(CONTEXT, error))
            })
            .await?;
        let Some(json) = stored else {
            return Ok(None);
        };
        // The record is gone from Redis either way; one that cannot be read is a failure.
        // The parser's message may quote the record (a verifier): only its position is kept.
        let stored: StoredState = serde_json::from_str(&json).map_err(|error| {
            let position =
                format!("{:?} error at line {}, column {}", error.classify(), error.line(), error.column());
            unexpected(CONTEXT, format!("unreadable pending sign-in ({position})"))
        })?;
        Ok(Some(stored.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_json_to_the_nanosecond() {
        let pending = PendingAuthorization {
            provider: "google".to_owned(),
            code_verifier: "v".repeat(43),
            nonce: "n".repeat(43),
            redirect_uri: "http://127.0.0.1:8080/oauth/callback".to_owned(),
            client_binding: TokenHash::from_bytes([7; 32]),
            expires_at: OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap(),
        };
        let json = serde_json::to_string(&StoredState::from(&pending)).unwrap();
        let back: StoredState = serde_json::from_str(&json).unwrap();
        assert_eq!(PendingAuthorization::from(back), pending);
    }
}
