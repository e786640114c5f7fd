-- The stored role of each account. Whether it counts is decided by the domain: an
-- account is an administrator only while its address is verified (and the account
-- whose verified address is ADMIN_EMAIL is one whatever its stored role).
ALTER TABLE users
    ADD COLUMN role text NOT NULL DEFAULT 'user',
    ADD CONSTRAINT users_role_check CHECK (role IN ('user', 'admin'));
