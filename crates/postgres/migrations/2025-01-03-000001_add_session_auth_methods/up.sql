-- How each session signed in: the `amr` claim of its access tokens ('otp', 'pwd',
-- 'oauth:<provider>'). Sessions stored before this column existed have none.
ALTER TABLE sessions ADD COLUMN auth_methods text[] NOT NULL DEFAULT '{}';
