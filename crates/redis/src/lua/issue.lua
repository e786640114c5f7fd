-- Issues a one-time code unless the key is cooling down. Atomic: Redis runs a script
-- to completion before any other command.
--
-- KEYS[1]  code hash      <prefix>code:<purpose>:{<subject>}     (the braces: a hash tag)
-- KEYS[2]  cooldown       <prefix>cooldown:<purpose>:{<subject>} (same tag, same cluster slot)
-- ARGV[1]  now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]  keyed hash of the code, hex
-- ARGV[3]  expires_at, Unix ms
-- ARGV[4]  attempts allowed
-- ARGV[5]  end of the cooldown, Unix ms
-- ARGV[6]  TTL of the code key in ms (expiry plus retention, from now); <= 0: not stored
-- ARGV[7]  TTL of the cooldown key in ms; <= 0: no cooldown
--
-- Returns {1} when issued, {0, retry_after_ms} when cooling down.
local now = tonumber(ARGV[1])
local cooling_until = tonumber(redis.call('GET', KEYS[2]) or '')
if cooling_until and cooling_until > now then
  return {0, cooling_until - now}
end

redis.call('DEL', KEYS[1])
if tonumber(ARGV[6]) > 0 then
  redis.call('HSET', KEYS[1], 'hash', ARGV[2], 'expires_at', ARGV[3], 'attempts_left', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end

if tonumber(ARGV[7]) > 0 then
  redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[7])
else
  redis.call('DEL', KEYS[2])
end
return {1}
