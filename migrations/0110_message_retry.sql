-- Manual retry of failed messages (staff engineering module, issue 17): a new attempt of the
-- same message. The customer-facing id never changes; the engine sees each attempt under its
-- own id, because the engine keeps a record per message id for the correlation TTL (72 h) —
-- the segments the upstream accepted, and whether the final event was published — and a
-- second submit under the same id would skip the accepted segments and never publish a
-- second final (engine/src/dispatch/dedupe.rs, CorrelationStore::claim_final).
--
-- * messages.attempt: 0 for the first send, n after n retries. The status consumer applies an
--   event only to the attempt it belongs to, so a late event of an earlier attempt cannot
--   change the current one (control-plane/src/results/attempts.rs).
-- * messages.attempt_id: the id the current attempt was published to the engine under (NULL
--   for attempt 0, which uses the message id). Attempt ids are UUIDv8 (a v7 timestamp with the
--   version nibble 8), so the consumer only looks up ids of that version.
-- * message_attempts: every retry (append-only), with who asked for it.

ALTER TABLE messages
    ADD COLUMN attempt    integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    ADD COLUMN attempt_id uuid;

CREATE TABLE message_attempts (
    attempt_id  uuid PRIMARY KEY,
    message_id  uuid NOT NULL,
    account_id  uuid NOT NULL,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    -- The ledger reference of the attempt's reservation (NULL for a free message).
    reservation text CHECK (length(reservation) BETWEEN 1 AND 200),
    staff_id    uuid REFERENCES admin_staff (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, attempt),
    FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE
);

REVOKE UPDATE, DELETE, TRUNCATE ON message_attempts FROM semalink_api;
