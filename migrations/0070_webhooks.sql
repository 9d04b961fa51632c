-- Webhooks (control-plane/src/webhooks, docs/webhooks.md): endpoints an organisation
-- registers, the delivery outbox written in the transaction of the event it reports, and the
-- log of every attempt.
--
-- * webhook_endpoints: URL, subscribed event types, the Standard Webhooks signing secret
--   (`whsec_` + base64; kept because every delivery is signed with it) and, during a
--   rotation, the previous secret until `previous_secret_until` (both sign meanwhile).
--   `failing_since` is the first failed attempt since the last success: an endpoint failing
--   for 24 hours is disabled (and the organisation notified).
-- * webhook_deliveries: one row per event and endpoint, the exact signed body, the retry
--   state. `seq` orders the deliveries of one message (`ordering_key`): a delivery is only
--   attempted when no earlier one of the same message to the same endpoint is pending.
--   `locked_until` is a worker's lease (a crashed worker's lease runs out and another takes
--   the row). Retries run for 24 hours from `window_started_at` (reset by a replay).
-- * webhook_attempts: time, HTTP status, latency and up to 1 KiB of the answer, or the error.

-- A time-ordered (version 7) UUID for rows created set-based in SQL (PostgreSQL 15 has no
-- uuidv7()): the millisecond clock in the first 48 bits, the rest random.
CREATE OR REPLACE FUNCTION webhook_id_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

CREATE TABLE webhook_endpoints (
    id                    uuid PRIMARY KEY,
    account_id            uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url                   text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description           text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types           text[] NOT NULL CHECK (cardinality(event_types) >= 1),
    enabled               boolean NOT NULL DEFAULT true,
    disabled_reason       text CHECK (length(disabled_reason) <= 200),
    -- Deliveries to this endpoint in flight at once (across every worker).
    max_in_flight         integer NOT NULL DEFAULT 16 CHECK (max_in_flight BETWEEN 1 AND 256),
    secret                text NOT NULL CHECK (secret LIKE 'whsec\_%'),
    previous_secret       text CHECK (previous_secret LIKE 'whsec\_%'),
    previous_secret_until timestamptz,
    failing_since         timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, id)
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id, id DESC);
CREATE INDEX webhook_endpoints_enabled_idx ON webhook_endpoints (account_id) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id                uuid PRIMARY KEY,
    seq               bigserial NOT NULL,
    account_id        uuid NOT NULL,
    endpoint_id       uuid NOT NULL,
    event_type        text NOT NULL CHECK (event_type ~ '^[a-z][a-z_]*\.[a-z_]+$'),
    -- The message the event is about: its deliveries go out in order.
    ordering_key      uuid,
    body              text NOT NULL,
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    locked_until      timestamptz,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    last_status       integer,
    last_error        text CHECK (length(last_error) <= 500),
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, endpoint_id) REFERENCES webhook_endpoints (account_id, id)
        ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, ordering_key, seq)
    WHERE state = 'pending' AND ordering_key IS NOT NULL;
-- Leased deliveries per endpoint: its in-flight count (a lease is cleared when recorded).
CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (endpoint_id)
    WHERE locked_until IS NOT NULL;
CREATE INDEX webhook_deliveries_account_idx ON webhook_deliveries (account_id, id DESC);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id               uuid PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    account_id       uuid NOT NULL,
    attempted_at     timestamptz NOT NULL,
    status_code      integer CHECK (status_code BETWEEN 100 AND 999),
    latency_ms       integer NOT NULL CHECK (latency_ms >= 0),
    error            text CHECK (length(error) <= 500),
    response_excerpt text CHECK (octet_length(response_excerpt) <= 1024)
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempted_at);

REVOKE UPDATE, TRUNCATE ON webhook_attempts FROM semalink_api;
