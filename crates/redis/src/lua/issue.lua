
-- issue: issue_code on one address's keys. Atomic: Redis runs a script to completion
-- before any other command.
--
-- KEYS[1]  code hash      <prefix>code:<purpose>:{<subject>}     (the braces: a hash tag)
-- KEYS[2]  cooldown       <prefix>cooldown:<purpose>:{<subject>} (same tag, same cluster slot)
-- ARGV[1]  now, Unix ms (the domain's clock, never Redis TIME)
-- ARGV[2..7]  the code (see issue_code)
--
-- Returns {1} when issued, {0, retry_after_ms} when cooling down.
return issue_code(KEYS[1], KEYS[2], tonumber(ARGV[1]), 2)
