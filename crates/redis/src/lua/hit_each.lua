-- Sliding-window logs of several keys: counts one hit on each in turn, as hit.lua would
-- one after the other, and stops at the first key whose window is full (hits counted on
-- the keys before it stay counted). Atomic. Every key must be in one cluster slot, so
-- cluster mode does not use this script.
--
-- KEYS[i]  sorted set of hits, scored by Unix ms    {prefix}rate:{key}
-- ARGV[1]  now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]  member for these hits, unique
-- then for each key i, from ARGV[3 + 3 * (i - 1)]: start of the window (Unix ms),
--          window in ms (at least 1), hits allowed per window
--
-- Returns {n} when all n hits are counted, {k, retry_after_ms} when key k + 1 (1-based)
-- is limited after k hits were counted.
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local base = 3 + 3 * (i - 1)
  local window = tonumber(ARGV[base + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[base])
  local count = redis.call('ZCARD', KEYS[i])
  local limited = nil
  if count < tonumber(ARGV[base + 2]) then
    redis.call('ZADD', KEYS[i], now, ARGV[2])
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
  if redis.call('PTTL', KEYS[i]) < window then
    redis.call('PEXPIRE', KEYS[i], window)
  end
  if limited then
    return {i - 1, limited}
  end
end
return {#KEYS}
