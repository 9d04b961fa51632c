-- In-app notifications: one row per event an organisation should see (a sender ID approved,
-- credits running low …). Modules write them with `notifications::notify`, in the same
-- transaction as the change they report; the organisation's owners and admins also get an
-- email through the outbox.

CREATE TABLE notifications (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Machine-readable kind, e.g. `sender_id.approved`, `credits.low`.
    kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body       text NOT NULL CHECK (length(body) <= 4000),
    -- Ids and values the app links to (the sender ID's id, the balance …).
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_account_idx ON notifications (account_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (account_id) WHERE read_at IS NULL;
