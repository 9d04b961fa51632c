-- Results: what the engine reports about each message (`sms.status`), applied by the status
-- consumer (control-plane/src/results). States only move forward (submitted < queued < sent
-- < final) and a final state is never replaced, so replays, duplicates and late events change
-- nothing; a final state settles the message's reservation once (the `settled` flag of 0040).
--
-- * messages gain what the upstream said: when it was sent and became final, which upstream
--   carried it, the SMSC's id, the error.
-- * message_parts: one row per segment of a long message that the engine reported on; the
--   message is final when all of them are (delivered only when every part was delivered).
-- * message_rollups: the analytics counters, kept by the consumer in the transaction that
--   applies the events, per account, day (UTC, of the message's creation), campaign (the nil
--   UUID for API messages), country and operator — so the overview never scans `messages`.
-- * message_latency: time from `sent` to `delivered`, bucketed, for the median per operator.

ALTER TABLE messages
    ADD COLUMN sent_at         timestamptz,
    ADD COLUMN final_at        timestamptz,
    ADD COLUMN upstream        text CHECK (length(upstream) <= 200),
    ADD COLUMN smsc_message_id text CHECK (length(smsc_message_id) <= 200),
    ADD COLUMN error_kind      text CHECK (error_kind IN ('command_status', 'network', 'receipt')),
    ADD COLUMN error_code      bigint,
    ADD COLUMN error_text      text CHECK (length(error_text) <= 500);

CREATE TABLE message_parts (
    message_id      uuid NOT NULL,
    account_id      uuid NOT NULL,
    part            integer NOT NULL CHECK (part BETWEEN 1 AND 255),
    total           integer NOT NULL CHECK (total BETWEEN 1 AND 255),
    status          message_status NOT NULL,
    upstream        text CHECK (length(upstream) <= 200),
    smsc_message_id text CHECK (length(smsc_message_id) <= 200),
    error_kind      text CHECK (error_kind IN ('command_status', 'network', 'receipt')),
    error_code      bigint,
    error_text      text CHECK (length(error_text) <= 500),
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (message_id, part),
    FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id) ON DELETE CASCADE
);

CREATE TABLE message_rollups (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day         date NOT NULL,
    campaign_id uuid NOT NULL,
    country     text NOT NULL,
    -- '' when the operator is unknown.
    mno_id      text NOT NULL,
    -- Messages that left for the upstream (reached `sent` or a final state from it).
    sent        bigint NOT NULL DEFAULT 0,
    delivered   bigint NOT NULL DEFAULT 0,
    failed      bigint NOT NULL DEFAULT 0,
    expired     bigint NOT NULL DEFAULT 0,
    rejected    bigint NOT NULL DEFAULT 0,
    -- Charged (finalised) and refunded amounts of the messages that became final.
    cost        numeric(18, 4) NOT NULL DEFAULT 0,
    refunded    numeric(18, 4) NOT NULL DEFAULT 0,
    -- Sum of seconds from sent to delivered over `delivered` messages that had a sent time.
    deliver_seconds double precision NOT NULL DEFAULT 0,
    timed       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day, campaign_id, country, mno_id)
);
CREATE INDEX message_rollups_campaign_idx ON message_rollups (campaign_id)
    WHERE campaign_id <> '00000000-0000-0000-0000-000000000000';

-- Bucket b counts deliveries that took less than the b-th bound of
-- results::store::LATENCY_BOUNDS seconds (the last bucket: longer).
CREATE TABLE message_latency (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day         date NOT NULL,
    campaign_id uuid NOT NULL,
    country     text NOT NULL,
    mno_id      text NOT NULL,
    bucket      smallint NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (account_id, day, campaign_id, country, mno_id, bucket)
);

REVOKE DELETE, TRUNCATE ON message_parts FROM semalink_api;
REVOKE DELETE, TRUNCATE ON message_rollups FROM semalink_api;
REVOKE DELETE, TRUNCATE ON message_latency FROM semalink_api;
