//! One-time codes in Redis: a hash per code and a key per cooldown, each operation one
//! Lua script.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::crypto::CodeHash;
use otp_core::ports::{CodeKey, CodeStore, IssueOutcome, NewCode, RateLimit, VerifyOutcome, Within};
use time::OffsetDateTime;

use crate::error::{invalid_subject, unexpected};
use crate::millis::{duration_ms, ttl_ms, unix_ms, wait};
use crate::rate_limiter::{add_hits, all_counted, hit_member, limited_after};
use crate::script::{LuaScript, ScriptCall};
use crate::{RedisPool, RedisRateLimiter};

/// How long an expired code is kept so that `verify` can say `Expired` rather than
/// `NotFound` (as the in-memory store does).
const EXPIRED_RETENTION: Duration = Duration::from_secs(60 * 60);

static ISSUE: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(concat!(include_str!("lua/issue_code.lua"), include_str!("lua/issue.lua")))
});
static ISSUE_WITHIN: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(concat!(
        include_str!("lua/count_hits.lua"),
        include_str!("lua/issue_code.lua"),
        include_str!("lua/issue_within.lua")
    ))
});
static VERIFY: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(concat!(include_str!("lua/verify_code.lua"), include_str!("lua/verify.lua")))
});
static VERIFY_WITHIN: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(concat!(
        include_str!("lua/count_hits.lua"),
        include_str!("lua/verify_code.lua"),
        include_str!("lua/verify_within.lua")
    ))
});

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
/// Built with [`RedisCodeStore::sharing`], the store also counts the rate limits of the
/// [`RedisRateLimiter`] it shares Redis with, in the same script as the code it issues
/// or checks ([`CodeStore::issue_within`], [`CodeStore::verify_within`]): one round
/// trip instead of two, on one Redis. On a cluster the limits' keys and the code's are
/// in different slots, so there it answers `None` and the caller counts with the
/// limiter first.
///
/// A verification that accepts a code or spends an attempt is answered only once a
/// replica of the node holding the code has it, when that node has replicas (see "Redis
/// Cluster" in the crate documentation): a failover cannot bring back a used code or a
/// spent attempt.
#[derive(Debug, Clone)]
pub struct RedisCodeStore {
    pool: RedisPool,
    /// Whether `issue_within` and `verify_within` may count rate limits: only when the
    /// service's limiter is the [`RedisRateLimiter`] on this same pool.
    counts_limits: bool,
}

impl RedisCodeStore {
    /// A store on `pool`, under the pool's key prefix.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool, counts_limits: false }
    }

    /// A store on `limiter`'s pool that also counts `limiter`'s rate limits, in the same
    /// script as a code it issues or checks ([`CodeStore::issue_within`],
    /// [`CodeStore::verify_within`]). Use it only beside that limiter: the hits it
    /// counts are the limiter's.
    pub fn sharing(limiter: &RedisRateLimiter) -> Self {
        Self { pool: limiter.pool().clone(), counts_limits: true }
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

/// Adds `code`'s six arguments, issued at `now_ms`, to a call of a script built on
/// `issue_code.lua`.
fn add_code(script: &mut ScriptCall<'_>, code: &NewCode, now_ms: i64) {
    let expires_at_ms = unix_ms(code.expires_at);
    let cooldown_ms = duration_ms(code.cooldown);
    script
        .arg(code.hash.to_hex())
        .arg(expires_at_ms)
        .arg(code.max_attempts)
        .arg(now_ms.saturating_add(cooldown_ms))
        .arg(ttl_ms(now_ms, expires_at_ms.saturating_add(duration_ms(EXPIRED_RETENTION))))
        .arg(cooldown_ms);
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
        let mut script = ISSUE.call();
        script.key(code_key).key(cooldown_key).arg(now_ms);
        add_code(&mut script, code, now_ms);
        let reply = self.pool.run_script(CONTEXT, &script).await?;
        match reply.as_slice() {
            [1] => Ok(IssueOutcome::Issued),
            [0, wait_ms] => Ok(IssueOutcome::CoolingDown { retry_after: wait(*wait_ms) }),
            other => Err(unexpected(CONTEXT, format!("{other:?}"))),
        }
    }

    /// One script on one Redis; `None` on a cluster or when built without the limiter.
    async fn issue_within(
        &self,
        hits: &[(&str, RateLimit)],
        key: &CodeKey,
        code: &NewCode,
        now: OffsetDateTime,
    ) -> Result<Option<Within<IssueOutcome>>, PortError> {
        const CONTEXT: &str = "counting rate limits and issuing a code";
        if !self.counts_limits || self.pool.is_cluster() {
            return Ok(None);
        }
        let (code_key, cooldown_key) = self.keys(key, CONTEXT)?;
        let now_ms = unix_ms(now);
        let mut script = ISSUE_WITHIN.call();
        script.arg(now_ms).arg(hit_member(now_ms));
        add_code(&mut script, code, now_ms);
        add_hits(&mut script, &self.pool, hits, now_ms);
        script.key(code_key).key(cooldown_key);
        let reply = self.pool.run_script(CONTEXT, &script).await?;
        let within = match reply.as_slice() {
            [0, n, wait_ms] => Within::Limited(limited_after(CONTEXT, hits, *n, *wait_ms)?),
            [1, n] if all_counted(hits, *n) => Within::Counted(IssueOutcome::Issued),
            [2, n, wait_ms] if all_counted(hits, *n) => {
                Within::Counted(IssueOutcome::CoolingDown { retry_after: wait(*wait_ms) })
            }
            other => return Err(unexpected(CONTEXT, format!("{other:?}"))),
        };
        Ok(Some(within))
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
        verify_outcome(CONTEXT, &reply)
    }

    /// One script on one Redis; `None` on a cluster or when built without the limiter.
    async fn verify_within(
        &self,
        hits: &[(&str, RateLimit)],
        key: &CodeKey,
        candidate: &CodeHash,
        now: OffsetDateTime,
    ) -> Result<Option<Within<VerifyOutcome>>, PortError> {
        const CONTEXT: &str = "counting rate limits and verifying a code";
        if !self.counts_limits || self.pool.is_cluster() {
            return Ok(None);
        }
        let (code_key, _) = self.keys(key, CONTEXT)?;
        let now_ms = unix_ms(now);
        let mut script = VERIFY_WITHIN.call();
        script.arg(now_ms).arg(hit_member(now_ms)).arg(candidate.to_hex());
        add_hits(&mut script, &self.pool, hits, now_ms);
        script.key(code_key);
        // The acknowledgement waits on the node of the first key, a rate key here: on
        // one Redis (the only place this runs) the node of the code too.
        let reply = self.pool.run_acknowledged_script(CONTEXT, &script).await?;
        let within = match reply.as_slice() {
            [0, n, wait_ms] => Within::Limited(limited_after(CONTEXT, hits, *n, *wait_ms)?),
            [1, checked @ ..] => Within::Counted(verify_outcome(CONTEXT, checked)?),
            other => return Err(unexpected(CONTEXT, format!("{other:?}"))),
        };
        Ok(Some(within))
    }
}

/// The outcome a `verify_code.lua` reply (past its replica count) stands for.
fn verify_outcome(context: &'static str, reply: &[i64]) -> Result<VerifyOutcome, PortError> {
    match reply {
        [0] => Ok(VerifyOutcome::NotFound),
        [1] => Ok(VerifyOutcome::Expired),
        [2] => Ok(VerifyOutcome::AttemptsExceeded),
        [3] => Ok(VerifyOutcome::Accepted),
        [4, left] => match u32::try_from(*left) {
            Ok(attempts_remaining) => Ok(VerifyOutcome::Rejected { attempts_remaining }),
            Err(_) => Err(unexpected(context, format!("{reply:?}"))),
        },
        other => Err(unexpected(context, format!("{other:?}"))),
    }
}
