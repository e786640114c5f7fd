
-- verify_within: count_hits, then, only when every hit was counted, verify_code.
-- Atomic: a guess is only checked on budgets it was counted against. Every key must be
-- in one cluster slot, so cluster mode does not use this script.
--
-- KEYS[1..n]  sorted sets of hits           <prefix>rate:<key>
-- KEYS[n + 1] code hash                     <prefix>code:<purpose>:{<subject>}
-- ARGV[1]     now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]     member for these hits, unique
-- ARGV[3]     keyed hash of the candidate, hex
-- then for each rate key i, from ARGV[4 + 3 * (i - 1)]: its limit (see count_hits)
--
-- Every reply starts with the replicas to wait for, as verify_code's. Then
-- {0, k, retry_after_ms} when rate key k + 1 is limited after k hits were counted
-- (nothing checked), or, once every hit is counted, 1 followed by the rest of
-- verify_code's reply: {replicas, 1, outcome...}. A malformed code record is an error
-- reply (the hits stay counted).
local n = #KEYS - 1
local now = tonumber(ARGV[1])
local limited = count_hits(n, now, ARGV[2], 4)
if limited then
  return {0, 0, limited[1], limited[2]}
end
local checked = verify_code(KEYS[n + 1], now, ARGV[3])
if checked.err then
  return checked
end
table.insert(checked, 2, 1)
return checked
