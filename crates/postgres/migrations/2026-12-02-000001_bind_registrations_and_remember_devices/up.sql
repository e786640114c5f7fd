-- Who registered an unverified account's pending password: the keyed hash of the
-- registration token handed to that client, a keyed pseudonym of its network and user
-- agent, and until when the pseudonym alone recognises it. All three or none.
ALTER TABLE users
    ADD COLUMN registration_token_hash bytea       NULL,
    ADD COLUMN registration_client     text        NULL,
    ADD COLUMN registration_expires_at timestamptz NULL,
    ADD CONSTRAINT users_registration_complete CHECK (
        (registration_token_hash IS NULL) = (registration_client IS NULL)
        AND (registration_client IS NULL) = (registration_expires_at IS NULL)
    ),
    ADD CONSTRAINT users_registration_token_hash_length CHECK (octet_length(registration_token_hash) = 32);

-- Remembered devices: the keyed hash of each device token's secret (never the token),
-- the account it is bound to, and when it last passed a code check.
CREATE TABLE devices (
    id               uuid        NOT NULL,
    user_id          uuid        NOT NULL,
    token_hash       bytea       NOT NULL,
    client           text        NOT NULL,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz NOT NULL,
    code_verified_at timestamptz NULL,
    revoked_at       timestamptz NULL,
    ip               inet        NULL,
    user_agent       text        NULL,
    CONSTRAINT devices_pkey PRIMARY KEY (id),
    CONSTRAINT devices_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT devices_token_hash_length CHECK (octet_length(token_hash) = 32)
);

-- A user's devices not revoked, newest first: listing and recognising them.
CREATE INDEX devices_active_by_user_idx ON devices (user_id, created_at DESC) WHERE revoked_at IS NULL;
