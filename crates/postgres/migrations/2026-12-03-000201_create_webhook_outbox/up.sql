-- Auth events waiting for delivery to the webhook endpoints: one row per event and
-- endpoint. `seq` is the queueing order; a row is claimed only when no earlier row of
-- its account and endpoint is left, so one account's events arrive in order.
-- `payload` holds ids and method names only (never a code, a token or an address).
-- `user_id` has no foreign key: `user.deleted` outlives the account.
-- `available_at` is when the row may next be claimed: its queueing time, the end of a
-- claim's lease, or the time of its next retry.
CREATE TABLE webhook_outbox (
    seq BIGSERIAL PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    event_id UUID NOT NULL,
    user_id UUID NOT NULL,
    endpoint TEXT NOT NULL,
    payload TEXT NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL,
    available_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);

CREATE INDEX webhook_outbox_queue ON webhook_outbox (user_id, endpoint, seq);
CREATE INDEX webhook_outbox_due ON webhook_outbox (available_at);
