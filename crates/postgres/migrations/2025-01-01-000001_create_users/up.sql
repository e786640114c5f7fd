-- Accounts. Addresses arrive normalised (trimmed, lower-cased) from the domain;
-- uniqueness is enforced case-insensitively all the same.
CREATE TABLE users (
    id                    uuid        NOT NULL,
    email                 text        NOT NULL,
    password_hash         text        NULL,
    email_verified_at     timestamptz NULL,
    last_code_verified_at timestamptz NULL,
    disabled              boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

-- The adapter maps a violation of this index (by name) to PortError::EmailTaken.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
