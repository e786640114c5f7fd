-- Sliding-window log: counts one hit unless `max` hits are already in the window.
-- Atomic: Redis runs a script to completion before any other command.
--
-- KEYS[1]  sorted set of hits, scored by Unix ms    {prefix}rate:{key}
-- ARGV[1]  now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]  start of the window, Unix ms: hits at or before it no longer count
-- ARGV[3]  window in ms (at least 1): the key's TTL
-- ARGV[4]  hits allowed per window
-- ARGV[5]  member for this hit, unique
--
-- Returns {1} when the hit is counted, {0, retry_after_ms} when limited.
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[1])

local decision
if count < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  decision = {1}
else
  local retry_after = window
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if oldest[2] then
    retry_after = tonumber(oldest[2]) + window - tonumber(ARGV[1])
  end
  if retry_after < 1 then
    retry_after = 1
  end
  decision = {0, retry_after}
end

-- Keep every hit until its window has passed; never shorten a longer TTL set by a
-- limit with a longer window, and never leave the key without one. PEXPIRE on a
-- missing key (nothing counted) is a no-op.
if redis.call('PTTL', KEYS[1]) < window then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return decision
