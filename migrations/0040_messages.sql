-- Messages: one row per recipient of a send (the messages API now, campaigns next), their
-- timeline, the outbox the publisher drains to the engine's queues, and the idempotency keys
-- of the sending endpoints.
--
-- Life cycle (docs/ARCHITECTURE.md): submitted → queued → sent → delivered | failed | expired
-- | rejected. `submitted` is written with the row, the credit reservation and the outbox row
-- in one transaction; `queued` only by the publisher after the broker's confirm; later states
-- by the status consumer. Every change appends a `message_events` row.
--
-- Money: `cost` is what the message reserved (rate × parts, 4 places, as the ledger keeps
-- amounts); `unit_price` keeps the rate with the 6 places price lists have, so the price
-- shown is the price set. One send request reserves its total once under `reservation`
-- (the ledger reference); `settled` is set when the message's share has been finalised or
-- refunded by the status consumer.

CREATE TYPE message_status AS ENUM
    ('submitted', 'queued', 'sent', 'delivered', 'failed', 'expired', 'rejected');
CREATE TYPE message_priority AS ENUM ('normal', 'high');
CREATE TYPE message_encoding AS ENUM ('gsm7', 'ucs2');

CREATE TABLE messages (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Set for campaign messages (the campaigns migration adds the foreign key).
    campaign_id      uuid,
    -- Who sent it: an API key or a user (neither for a campaign run by the dispatcher).
    api_key_id       uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    user_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    client_reference text CHECK (length(client_reference) BETWEEN 1 AND 100),
    sender_id        uuid REFERENCES sender_ids (id) ON DELETE SET NULL,
    -- The sender ID text as sent (kept when the sender ID row changes).
    sender           text NOT NULL CHECK (length(sender) BETWEEN 1 AND 16),
    destination      text NOT NULL CHECK (destination ~ '^\+[1-9][0-9]{6,14}$'),
    country          text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    -- Operator route key from the protocol crate's prefix table (`ke-safaricom`), if known.
    mno_id           text,
    body             text NOT NULL CHECK (length(body) BETWEEN 1 AND 39015),
    encoding         message_encoding NOT NULL,
    parts            integer NOT NULL CHECK (parts BETWEEN 1 AND 255),
    unit_price       numeric(14, 6) NOT NULL CHECK (unit_price >= 0),
    cost             numeric(14, 4) NOT NULL CHECK (cost >= 0),
    priority         message_priority NOT NULL DEFAULT 'normal',
    status           message_status NOT NULL DEFAULT 'submitted',
    send_at          timestamptz,
    expires_at       timestamptz,
    -- The ledger reference of the reservation that holds this message's cost.
    reservation      text CHECK (length(reservation) BETWEEN 1 AND 200),
    settled          boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_at IS NULL OR expires_at > coalesce(send_at, created_at)),
    UNIQUE (account_id, id)
);
-- The list filters, each newest first within one account (ids are UUIDv7, time-ordered).
CREATE INDEX messages_account_idx ON messages (account_id, id DESC);
CREATE INDEX messages_status_idx ON messages (account_id, status, id DESC);
CREATE INDEX messages_destination_idx ON messages (account_id, destination, id DESC);
CREATE INDEX messages_client_reference_idx ON messages (account_id, client_reference, id DESC)
    WHERE client_reference IS NOT NULL;
CREATE INDEX messages_campaign_idx ON messages (campaign_id, id DESC)
    WHERE campaign_id IS NOT NULL;

-- The timeline: one row per status a message reached, with what the step knew (parts,
-- upstream ids, error codes). Append-only.
CREATE TABLE message_events (
    id         uuid PRIMARY KEY,
    message_id uuid NOT NULL,
    account_id uuid NOT NULL,
    status     message_status NOT NULL,
    parts      integer CHECK (parts BETWEEN 1 AND 255),
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(detail) = 'object'),
    at         timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE
);
CREATE INDEX message_events_message_idx ON message_events (message_id, id);

-- Messages waiting to be published: written with the message, deleted by the publisher once
-- the broker confirmed it. `available_at` is `send_at` (or the creation time), so scheduled
-- messages wait here; the drain takes due rows oldest first with FOR UPDATE SKIP LOCKED, so
-- several publishers share the work.
CREATE TABLE message_outbox (
    message_id   uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    priority     message_priority NOT NULL,
    available_at timestamptz NOT NULL DEFAULT now(),
    -- Publication attempts that ended without a confirm (broker away).
    attempts     integer NOT NULL DEFAULT 0
);
CREATE INDEX message_outbox_due_idx ON message_outbox (available_at, message_id);

-- Idempotency-Key of the sending endpoints: the same key with the same request answers the
-- stored response, with another request a 409. Kept 24 hours. A key is claimed by inserting
-- it in the request's own transaction, so a concurrent request with the same key waits for
-- the first one to commit (then replays it) or roll back (then runs itself).
CREATE TABLE idempotency_keys (
    account_id   uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the endpoint and the request as parsed (key order and spacing ignored).
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    -- The answer; written before the claiming transaction commits, so a committed key
    -- always has one.
    status_code  integer CHECK (status_code BETWEEN 200 AND 599),
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- The service role (default privileges of 0005 grant the rest): the timeline is append-only,
-- and messages are never deleted by the API (only with their account).
REVOKE UPDATE, DELETE, TRUNCATE ON message_events FROM semalink_api;
REVOKE DELETE, TRUNCATE ON messages FROM semalink_api;
