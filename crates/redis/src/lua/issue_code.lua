-- issue_code(code_key, cooldown_key, now, first): issues a one-time code unless the key
-- is cooling down. From ARGV[first] on:
--   +0  keyed hash of the code, hex
--   +1  expires_at, Unix ms
--   +2  attempts allowed
--   +3  end of the cooldown, Unix ms
--   +4  TTL of the code key in ms (expiry plus retention, from now); <= 0: not stored
--   +5  TTL of the cooldown key in ms; <= 0: no cooldown
--
-- Returns {1} when issued, {0, retry_after_ms} when cooling down. A library: scripts
-- that call it are this file followed by their own body.
local function issue_code(code_key, cooldown_key, now, first)
  local cooling_until = tonumber(redis.call('GET', cooldown_key) or '')
  if cooling_until and cooling_until > now then
    return {0, cooling_until - now}
  end

  redis.call('DEL', code_key)
  if tonumber(ARGV[first + 4]) > 0 then
    redis.call('HSET', code_key, 'hash', ARGV[first], 'expires_at', ARGV[first + 1],
      'attempts_left', ARGV[first + 2])
    redis.call('PEXPIRE', code_key, ARGV[first + 4])
  end

  if tonumber(ARGV[first + 5]) > 0 then
    redis.call('SET', cooldown_key, ARGV[first + 3], 'PX', ARGV[first + 5])
  else
    redis.call('DEL', cooldown_key)
  end
  return {1}
end
