-- Outgoing mail waiting for delivery. `sealed` is the message encrypted and
-- authenticated under a key derived from SECRET_KEY: no code is stored in clear.
-- `available_at` is when the message may next be claimed: its queueing time, the end of
-- a claim's lease, or the time of its next retry.
CREATE TABLE mail_outbox (
    id UUID PRIMARY KEY,
    sealed TEXT NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL,
    available_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);

CREATE INDEX mail_outbox_due ON mail_outbox (available_at, queued_at);
