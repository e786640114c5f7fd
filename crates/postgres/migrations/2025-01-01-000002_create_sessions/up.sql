-- Sessions and the keyed hash of their current refresh token (never the token).
CREATE TABLE sessions (
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    refresh_hash bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz NULL,
    ip           inet        NULL,
    user_agent   text        NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT sessions_refresh_hash_length CHECK (octet_length(refresh_hash) = 32)
);

-- Every session of a user (the cascade from users, and revoking them all).
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- Sessions not revoked, newest first: listing a user's active sessions.
CREATE INDEX sessions_active_by_user_idx ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL;
