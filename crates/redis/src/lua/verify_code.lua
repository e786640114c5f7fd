-- verify_code(code_key, now, candidate): checks a candidate code hash (hex) at `now`
-- (Unix ms, the domain's clock, never Redis TIME). No interleaving accepts a code twice
-- or evaluates more than the allowed number of wrong guesses: Redis runs a script to
-- completion before any other command.
--
-- Every reply starts with the number of replicas that must acknowledge the script's
-- writes before the caller may act on it: 1 when it wrote and this node has a replica
-- in sync (a failover must not bring back a used code or a spent attempt), else 0. Then:
-- {0} not found, {1} expired, {2} attempts exceeded, {3} accepted (the code is
-- deleted), {4, attempts_left} rejected (one attempt spent). A malformed record is an
-- error reply. A library: scripts that call it are this file followed by their own body.
--
-- Replicas still loading their first copy are not counted: they hold no data a failover
-- could promote, and WAIT would wait for them in vain.
local function replicas_to_wait_for()
  local replication = redis.call('INFO', 'replication')
  if string.find(replication, 'state=online', 1, true) then
    return 1
  end
  return 0
end

local function verify_code(code_key, now, candidate)
  local stored = redis.call('HMGET', code_key, 'hash', 'expires_at', 'attempts_left')
  local hash = stored[1]
  if not hash then
    return {0, 0}
  end
  local expires_at = tonumber(stored[2])
  local left = tonumber(stored[3])
  if not expires_at or not left then
    return redis.error_reply('ERR malformed one-time code record')
  end

  if now >= expires_at then
    return {0, 1}
  end
  if left <= 0 then
    return {0, 2}
  end

  -- Compare every byte, without stopping at the first difference.
  local difference = 0
  if #candidate ~= #hash then
    difference = 1
  end
  for i = 1, math.min(#candidate, #hash) do
    difference = bit.bor(difference, bit.bxor(string.byte(candidate, i), string.byte(hash, i)))
  end
  if difference == 0 then
    redis.call('DEL', code_key)
    return {replicas_to_wait_for(), 3}
  end

  left = left - 1
  -- HSET keeps the key's TTL.
  redis.call('HSET', code_key, 'attempts_left', left)
  return {replicas_to_wait_for(), 4, left}
end
