-- count_hits(n, now, member, first): sliding-window logs of KEYS[1..n]. Counts one hit
-- on each in turn, as hit.lua would one after the other, and stops at the first key
-- whose window is full (hits counted on the keys before it stay counted). Key i's
-- limit is ARGV[first + 3 * (i - 1)] .. (+2): start of the window (Unix ms; hits at or
-- before it no longer count), window in ms (at least 1: the key's TTL), hits allowed
-- per window. `now` scores the hit (the domain's clock, never Redis TIME); `member` is
-- unique to this call.
--
-- Returns nil when all n hits are counted, {k, retry_after_ms} when key k + 1 (1-based)
-- is limited after k hits were counted. A library: scripts that call it are this file
-- followed by their own body.
local function count_hits(n, now, member, first)
  for i = 1, n do
    local base = first + 3 * (i - 1)
    local window = tonumber(ARGV[base + 1])
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[base])
    local count = redis.call('ZCARD', KEYS[i])
    local limited = nil
    if count < tonumber(ARGV[base + 2]) then
      redis.call('ZADD', KEYS[i], now, member)
    else
      limited = window
      local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
      if oldest[2] then
        limited = tonumber(oldest[2]) + window - now
      end
      if limited < 1 then
        limited = 1
      end
    end
    -- Keep every hit until its window has passed; never shorten a longer TTL.
    if redis.call('PTTL', KEYS[i]) < window then
      redis.call('PEXPIRE', KEYS[i], window)
    end
    if limited then
      return {i - 1, limited}
    end
  end
  return nil
end
