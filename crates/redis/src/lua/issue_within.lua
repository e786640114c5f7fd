
-- issue_within: count_hits, then, only when every hit was counted, issue_code. Atomic,
-- so no request issues a code on budgets another request spent meanwhile. Every key must
-- be in one cluster slot, so cluster mode does not use this script.
--
-- KEYS[1..n]  sorted sets of hits           <prefix>rate:<key>
-- KEYS[n + 1] code hash                     <prefix>code:<purpose>:{<subject>}
-- KEYS[n + 2] cooldown                      <prefix>cooldown:<purpose>:{<subject>}
-- ARGV[1]     now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]     member for these hits, unique
-- ARGV[3..8]  the code (see issue_code)
-- then for each rate key i, from ARGV[9 + 3 * (i - 1)]: its limit (see count_hits)
--
-- Returns {0, k, retry_after_ms} when rate key k + 1 is limited after k hits were
-- counted (no code issued); otherwise every hit is counted and it returns {1, n} when
-- the code was issued, {2, n, retry_after_ms} when the address is cooling down.
local n = #KEYS - 2
local now = tonumber(ARGV[1])
local limited = count_hits(n, now, ARGV[2], 9)
if limited then
  return {0, limited[1], limited[2]}
end
local issued = issue_code(KEYS[n + 1], KEYS[n + 2], now, 3)
if issued[1] == 1 then
  return {1, n}
end
return {2, n, issued[2]}
