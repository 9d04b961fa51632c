-- Sender IDs: the names (or numbers) an organisation's messages show as their sender. A
-- customer registers one for a country; Sema Link staff approve, reject, suspend or reinstate
-- it. Only an approved sender ID can be used in a send, and exactly one approved sender ID per
-- account may be its default. Every status change is kept in sender_id_events.

-- pending → approved | rejected | withdrawn; approved ⇄ suspended. Rejected and withdrawn are
-- final (register again to retry); rows are never deleted so the history stays complete.
CREATE TYPE sender_id_status AS ENUM ('pending', 'approved', 'rejected', 'suspended', 'withdrawn');
-- What the name is: a GSM alphanumeric originator, a numeric short code or an E.164 number.
CREATE TYPE sender_id_kind AS ENUM ('alphanumeric', 'short_code', 'long_number');
-- Operators (Kenya among them) register transactional and promotional senders separately.
CREATE TYPE sender_id_traffic AS ENUM ('transactional', 'promotional');

CREATE TABLE sender_ids (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- As registered: alphanumeric as typed (case kept), short codes as digits, long numbers in
    -- E.164 with their `+` (at most 16 characters).
    name           text NOT NULL CHECK (length(name) BETWEEN 3 AND 16),
    kind           sender_id_kind NOT NULL,
    -- ISO 3166-1 alpha-2 country whose operators the sender ID is registered with.
    country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    traffic_type   sender_id_traffic NOT NULL,
    use_case       text NOT NULL CHECK (length(use_case) BETWEEN 10 AND 1000),
    sample_message text CHECK (length(sample_message) BETWEEN 1 AND 1000),
    status         sender_id_status NOT NULL DEFAULT 'pending',
    is_default     boolean NOT NULL DEFAULT false,
    -- The member who registered it (null for API keys, or once the user is gone).
    submitted_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    -- The last staff decision: who, when, and the note or reason given with it.
    reviewed_by    uuid,
    reviewed_at    timestamptz,
    status_note    text CHECK (length(status_note) <= 1000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sender_ids_default_is_approved CHECK (NOT is_default OR status = 'approved')
);
-- The same name cannot be live twice for one account and country (case-insensitive, since
-- operators register names without regard to case). Suspended counts as live: reinstating
-- must never create a duplicate.
CREATE UNIQUE INDEX sender_ids_live_name_key ON sender_ids (account_id, lower(name), country)
    WHERE status IN ('pending', 'approved', 'suspended');
-- At most one default per account.
CREATE UNIQUE INDEX sender_ids_one_default_key ON sender_ids (account_id) WHERE is_default;
CREATE INDEX sender_ids_account_idx ON sender_ids (account_id, id DESC);
-- The staff approval queue: pending across all accounts, oldest first.
CREATE INDEX sender_ids_pending_idx ON sender_ids (id) WHERE status = 'pending';

-- One row per status change (registration included), append-only.
CREATE TABLE sender_id_events (
    id           uuid PRIMARY KEY,
    sender_id_id uuid NOT NULL REFERENCES sender_ids (id) ON DELETE CASCADE,
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Null for the registration itself.
    from_status  sender_id_status,
    to_status    sender_id_status NOT NULL,
    -- The acting staff member (no foreign key: history outlives staff rows, like audit_log),
    -- or the acting customer user for registration and withdrawal.
    staff_id     uuid,
    user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    note         text CHECK (length(note) <= 1000),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sender_id_events_sender_idx ON sender_id_events (sender_id_id, id);
