
-- hit_each: count_hits over every key. Atomic. Every key must be in one cluster slot,
-- so cluster mode does not use this script.
--
-- KEYS[i]  sorted set of hits, scored by Unix ms    {prefix}rate:{key}
-- ARGV[1]  now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]  member for these hits, unique
-- then for each key i, from ARGV[3 + 3 * (i - 1)]: its limit (see count_hits)
--
-- Returns {n} when all n hits are counted, {k, retry_after_ms} when key k + 1 (1-based)
-- is limited after k hits were counted.
local limited = count_hits(#KEYS, tonumber(ARGV[1]), ARGV[2], 3)
if limited then
  return limited
end
return {#KEYS}
