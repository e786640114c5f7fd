ALTER TABLE sessions DROP COLUMN retired_refresh_hashes;
