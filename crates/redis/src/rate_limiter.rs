//! Sliding-window rate limiting in Redis: a sorted set of hit times per key, one Lua
//! script per hit.

use std::sync::LazyLock;

use async_trait::async_trait;
use otp_core::PortError;
use otp_core::ports::{RateDecision, RateLimit, RateLimiter, hit_in_turn};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::RedisPool;
use crate::error::unexpected;
use crate::millis::{duration_ms, unix_ms, wait};
use crate::script::{LuaScript, ScriptCall};

static HIT: LazyLock<LuaScript> = LazyLock::new(|| LuaScript::new(include_str!("lua/hit.lua")));
static HIT_EACH: LazyLock<LuaScript> = LazyLock::new(|| {
    LuaScript::new(concat!(include_str!("lua/count_hits.lua"), include_str!("lua/hit_each.lua")))
});

/// [`RateLimiter`] on Redis: a sliding-window log, shared by every process that uses
/// the same Redis and key prefix.
///
/// Each key is a sorted set `{prefix}rate:{key}` of the counted hits, scored by their
/// time (Unix ms, from the `now` the domain passes in). One Lua script drops the hits
/// that left the window, counts the rest and adds this one if there is room, so `max`
/// concurrent hits are allowed and the next is limited, across processes. The set holds
/// at most `max` hits and expires one window after the newest.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    pool: RedisPool,
}

impl RedisRateLimiter {
    /// A limiter on `pool`, under the pool's key prefix.
    pub fn new(pool: RedisPool) -> Self {
        Self { pool }
    }

    /// The pool this limiter counts in.
    pub(crate) fn pool(&self) -> &RedisPool {
        &self.pool
    }
}

/// Adds `hits` to a call of a script built on `count_hits.lua`: a key per hit, and its
/// limit at `now_ms` (three arguments: start of the window, window, hits allowed).
pub(crate) fn add_hits(
    script: &mut ScriptCall<'_>,
    pool: &RedisPool,
    hits: &[(&str, RateLimit)],
    now_ms: i64,
) {
    for (key, limit) in hits {
        let window_ms = duration_ms(limit.window).max(1);
        script
            .key(format!("{}rate:{key}", pool.key_prefix()))
            .arg(now_ms.saturating_sub(window_ms))
            .arg(window_ms)
            .arg(limit.max);
    }
}

/// Whether `counted`, as a script built on `count_hits.lua` replies it, is every one of
/// `hits`.
pub(crate) fn all_counted(hits: &[(&str, RateLimit)], counted: i64) -> bool {
    usize::try_from(counted) == Ok(hits.len())
}

/// The decisions of `hits` when the one after the first `counted` was limited, waiting
/// `wait_ms`: as a script built on `count_hits.lua` replies. A `counted` that leaves no
/// hit to be the limited one is a reply this adapter does not understand.
pub(crate) fn limited_after(
    context: &'static str,
    hits: &[(&str, RateLimit)],
    counted: i64,
    wait_ms: i64,
) -> Result<Vec<RateDecision>, PortError> {
    match usize::try_from(counted) {
        Ok(counted) if counted < hits.len() => {
            let mut decisions = vec![RateDecision::Allowed; counted];
            decisions.push(RateDecision::Limited { retry_after: wait(wait_ms) });
            Ok(decisions)
        }
        _ => Err(unexpected(context, format!("{counted} hits counted of {}", hits.len()))),
    }
}

/// A unique member for the hits of one call at `now_ms`.
pub(crate) fn hit_member(now_ms: i64) -> String {
    format!("{now_ms}:{}", Uuid::new_v4().simple())
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, limit: RateLimit, now: OffsetDateTime) -> Result<RateDecision, PortError> {
        const CONTEXT: &str = "counting a rate-limit hit";
        let now_ms = unix_ms(now);
        let window_ms = duration_ms(limit.window).max(1);
        let member = hit_member(now_ms);
        let mut script = HIT.call();
        script
            .key(format!("{}rate:{key}", self.pool.key_prefix()))
            .arg(now_ms)
            .arg(now_ms.saturating_sub(window_ms))
            .arg(window_ms)
            .arg(limit.max)
            .arg(member);
        let reply = self.pool.run_script(CONTEXT, &script).await?;
        match reply.as_slice() {
            [1] => Ok(RateDecision::Allowed),
            [0, wait_ms] => Ok(RateDecision::Limited { retry_after: wait(*wait_ms) }),
            other => Err(unexpected(CONTEXT, format!("{other:?}"))),
        }
    }

    /// One script for every key on one Redis (one round trip); one per key on a
    /// cluster, where the keys may live on different nodes.
    async fn hit_each(
        &self,
        hits: &[(&str, RateLimit)],
        now: OffsetDateTime,
    ) -> Result<Vec<RateDecision>, PortError> {
        const CONTEXT: &str = "counting rate-limit hits";
        if hits.len() < 2 || self.pool.is_cluster() {
            return hit_in_turn(self, hits, now).await;
        }
        let now_ms = unix_ms(now);
        let mut script = HIT_EACH.call();
        script.arg(now_ms).arg(hit_member(now_ms));
        add_hits(&mut script, &self.pool, hits, now_ms);
        let reply = self.pool.run_script(CONTEXT, &script).await?;
        match reply.as_slice() {
            [n] if all_counted(hits, *n) => Ok(vec![RateDecision::Allowed; hits.len()]),
            [n, wait_ms] => limited_after(CONTEXT, hits, *n, *wait_ms),
            other => Err(unexpected(CONTEXT, format!("{other:?}"))),
        }
    }
}
