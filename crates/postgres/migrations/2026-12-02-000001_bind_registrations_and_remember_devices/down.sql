DROP TABLE devices;
ALTER TABLE users
    DROP CONSTRAINT users_registration_token_hash_length,
    DROP CONSTRAINT users_registration_complete,
    DROP COLUMN registration_expires_at,
    DROP COLUMN registration_client,
    DROP COLUMN registration_token_hash;
