-- What administrators did through the admin API: append-only, and kept when the
-- accounts it names are deleted (so no foreign keys to users). Holds no secret.
CREATE TABLE audit_log (
    id           uuid        NOT NULL,
    at           timestamptz NOT NULL,
    actor_id     uuid        NOT NULL,
    actor_email  text        NOT NULL,
    action       text        NOT NULL,
    target_id    uuid        NULL,
    target_email text        NULL,
    ip           inet        NULL,
    -- Ids are UUIDv7: the primary key's order is the order entries were written,
    -- which the newest-first listing walks backwards.
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
);

-- Every entry about one account.
CREATE INDEX audit_log_target_id_idx ON audit_log (target_id) WHERE target_id IS NOT NULL;
