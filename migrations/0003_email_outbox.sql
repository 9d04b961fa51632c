-- Outgoing email. Requests only insert here; a worker drains the table (FOR UPDATE SKIP LOCKED,
-- so several workers may run) and sends through SMTP or writes to the log.

CREATE TABLE email_outbox (
    id              uuid PRIMARY KEY,
    to_address      text NOT NULL,
    template        text NOT NULL,
    subject         text NOT NULL,
    body_text       text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE sent_at IS NULL;
