-- Identities at OAuth / OpenID Connect providers linked to accounts. Provider and
-- subject use the "C" collation: compared and ordered byte by byte, whatever the
-- database's default collation.
CREATE TABLE identities (
    provider  text COLLATE "C" NOT NULL,
    subject   text COLLATE "C" NOT NULL,
    user_id   uuid             NOT NULL,
    email     text             NOT NULL,
    linked_at timestamptz      NOT NULL,
    -- The adapter maps a violation of this key (by name) to PortError::IdentityTaken.
    CONSTRAINT identities_pkey PRIMARY KEY (provider, subject),
    CONSTRAINT identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX identities_user_id_idx ON identities (user_id, linked_at);
