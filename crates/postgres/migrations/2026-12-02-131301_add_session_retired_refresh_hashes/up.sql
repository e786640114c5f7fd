-- The keyed hashes a session's refresh token had before its latest rotations, newest
-- first and at most 32: presenting one of them is reuse and ends the session, while a
-- hash that never belonged to the session is refused without ending it.
ALTER TABLE sessions
    ADD COLUMN retired_refresh_hashes bytea[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT sessions_retired_refresh_hashes_bounded
        CHECK (cardinality(retired_refresh_hashes) <= 32);
