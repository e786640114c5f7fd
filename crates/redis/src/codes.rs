//! One-time codes in Redis: a hash per code and a key per cooldown, each operation one
//! Lua script.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::crypto::CodeHash;
use otp_core::ports::{CodeKey, CodeStore, IssueOutcome, NewCode, VerifyOutcome};
use time::OffsetDateTime;

use crate::RedisPool;
use crate::error::{invalid_subject, unexpected};
use crate::millis::{duration_ms, ttl_ms, unix_ms, wait};
use crate::script::LuaScript;

/// How long an expired code is kept so that `verify` can say `Expired` rather than
/// `NotFound` (as the in-memory store does).
const EXPIRED_RETENTION: Duration = Duration::from_secs(60 * 60);

static ISSUE: LazyLock<LuaScript> = LazyLock::new(|| LuaScript::new(include_str!("lua/issue.lua")));
static VERIFY: LazyLock<LuaScript> = LazyLock::new(|| LuaScript::new(include_str!("lua/verify.lua")));

/// [`CodeStore`] on Redis, shared by every process that uses the same Redis and key
/// prefix.
///
/// Each operation is one Lua script (sent as `EVALSHA`, or as `EVAL` to a node without it),
/// so it is atomic across processes. Decisions use the `now` the domain passes in, never
/// the Redis clock. Keys, under the pool's prefix (braces literal, placeholders in
/// angle brackets):
///
/// - `<prefix>code:<purpose>:{<subject>}`: a hash of `hash` (hex), `expires_at` (Unix
///   ms) and `attempts_left`; it lives until one hour after expiry, so that `verify`
///   answers `Expired` rather than `NotFound` meanwhile.
/// - `<prefix>cooldown:<purpose>:{<subject>}`: the end of the issue cooldown (Unix ms),
///   living until then.
///
/// The subject in braces is a hash tag: both keys of one address and purpose are in one
/// Redis Cluster slot, so the script that touches both runs on a cluster. Every key is
/// written with a TTL. The subject is the domain's keyed digest of the address; anything
/// that is not hex is refused, so an address never reaches Redis.
///
/// A verification that accepts a code or spends an attempt is answered only once a
/// replica of the node holding the code has it, when that node has replicas (see "Redis
/// Cluster" in the crate documentation): a failover cannot bring back a used code or a
/// spent attempt.
#[derive(Debug, Clone)]
pub struct RedisCodeStore {
    pool: RedisPool,
}

impl RedisCodeStore {
    /// A store on `pool`, under the pool's key prefix.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }

    fn keys(&self, key: &CodeKey, context: &'static str) -> Result<(String, String), PortError> {
        let subject = key.subject.as_str();
        if subject.is_empty() || !subject.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(invalid_subject(context));
        }
        let (prefix, purpose) = (self.pool.key_prefix(), key.purpose.as_str());
        Ok((
            format!("{prefix}code:{purpose}:{{{subject}}}"),
            format!("{prefix}cooldown:{purpose}:{{{subject}}}"),
        ))
    }
}

#[async_trait]
impl CodeStore for RedisCodeStore {
    async fn issue(
        &self,
        key: &CodeKey,
        code: &NewCode,
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, PortError> {
        const CONTEXT: &str = "issuing a code";
        let (code_key, cooldown_key) = self.keys(key, CONTEXT)?;
        let now_ms = unix_ms(now);
        let expires_at_ms = unix_ms(code.expires_at);
        let code_ttl_ms = ttl_ms(now_ms, expires_at_ms.saturating_add(duration_ms(EXPIRED_RETENTION)));
        let cooldown_ms = duration_ms(code.cooldown);
        let mut script = ISSUE.call();
        script
            .key(code_key)
            .key(cooldown_key)
            .arg(now_ms)
            .arg(code.hash.to_hex())
            .arg(expires_at_ms)
            .arg(code.max_attempts)
            .arg(now_ms.saturating_add(cooldown_ms))
            .arg(code_ttl_ms)
            .arg(cooldown_ms);
        let reply = self.pool.run_script(CONTEXT, &script).await?;
        match reply.as_slice() {
            [1] => Ok(IssueOutcome::Issued),
            [0, wait_ms] => Ok(IssueOutcome::CoolingDown { retry_after: wait(*wait_ms) }),
            other => Err(unexpected(CONTEXT, format!("{other:?}"))),
        }
    }

    async fn verify(
        &self,
        key: &CodeKey,
        candidate: &CodeHash,
        now: OffsetDateTime,
    ) -> Result<VerifyOutcome, PortError> {
        const CONTEXT: &str = "verifying a code";
        let (code_key, _) = self.keys(key, CONTEXT)?;
        let mut script = VERIFY.call();
        script.key(code_key).arg(unix_ms(now)).arg(candidate.to_hex());
        let reply = self.pool.run_acknowledged_script(CONTEXT, &script).await?;
        match reply.as_slice() {
            [0] => Ok(VerifyOutcome::NotFound),
            [1] => Ok(VerifyOutcome::Expired),
            [2] => Ok(VerifyOutcome::AttemptsExceeded),
            [3] => Ok(VerifyOutcome::Accepted),
            [4, left] => match u32::try_from(*left) {
                Ok(attempts_remaining) => Ok(VerifyOutcome::Rejected { attempts_remaining }),
                Err(_) => Err(unexpected(CONTEXT, format!("{reply:?}"))),
            },
            other => Err(unexpected(CONTEXT, format!("{other:?}"))),
        }
    }
}
