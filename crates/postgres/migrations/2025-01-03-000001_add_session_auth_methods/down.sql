ALTER TABLE sessions DROP COLUMN auth_methods;
