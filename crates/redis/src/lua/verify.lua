
-- verify: verify_code on one code.
--
-- KEYS[1]  code hash      <prefix>code:<purpose>:{<subject>}  (the braces: a hash tag)
-- ARGV[1]  now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2]  keyed hash of the candidate, hex
--
-- Replies as verify_code.
return verify_code(KEYS[1], tonumber(ARGV[1]), ARGV[2])
