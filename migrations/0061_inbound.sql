-- Inbound messages (MO): what handsets send to a short code or long number, from the
-- engine's `sms.inbound` queue. Opt-out keywords (STOP, SIMAMA, …) opt the number out for
-- the account that owns the conversation, opt-in keywords (START, UNSTOP) lift it; every
-- message is kept and listed through GET /v1/inbound.
--
-- The owning account: the one that last sent to the number from that address (a shared
-- short code's replies go to whoever is talking to the handset), else the one account with
-- that approved sender ID; NULL when neither (kept for staff, counted).

CREATE TABLE inbound_messages (
    -- The engine's id (consumers de-duplicate on it).
    id           uuid PRIMARY KEY,
    account_id   uuid REFERENCES accounts (id) ON DELETE CASCADE,
    -- E.164 when the number parses, else as the upstream gave it.
    from_number  text NOT NULL CHECK (length(from_number) BETWEEN 1 AND 64),
    to_address   text NOT NULL CHECK (length(to_address) BETWEEN 1 AND 64),
    body         text NOT NULL CHECK (length(body) <= 39015),
    segments     integer NOT NULL DEFAULT 1 CHECK (segments BETWEEN 1 AND 255),
    upstream     text NOT NULL CHECK (length(upstream) <= 200),
    -- What it did: opted the number out or in, or nothing (a reply).
    action       text NOT NULL CHECK (action IN ('opt_out', 'opt_in', 'none')),
    keyword      text CHECK (length(keyword) <= 40),
    -- The contact with that number, and the campaign of the last message sent to it.
    contact_id   uuid,
    campaign_id  uuid,
    message_id   uuid,
    received_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_messages_account_idx ON inbound_messages (account_id, id DESC);
CREATE INDEX inbound_messages_from_idx ON inbound_messages (account_id, from_number, id DESC);
CREATE INDEX inbound_messages_opt_out_idx ON inbound_messages (account_id, received_at)
    WHERE action = 'opt_out';
CREATE INDEX inbound_messages_unrouted_idx ON inbound_messages (id DESC) WHERE account_id IS NULL;

-- The conversation lookup: who last sent to this number (any account).
CREATE INDEX messages_destination_any_idx ON messages (destination, id DESC);

REVOKE UPDATE, DELETE, TRUNCATE ON inbound_messages FROM semalink_api;
