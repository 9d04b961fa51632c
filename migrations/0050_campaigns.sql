-- Campaigns (seed 000 Phase 2c, statuses from 004): a named bulk send to an audience (lists
-- and/or a contact filter), with a personalised text, a sender ID, a schedule, and the
-- counters the status consumer keeps. The dispatcher claims due campaigns with FOR UPDATE
-- SKIP LOCKED and expands the audience set-based into `messages` + `message_outbox` rows in
-- batches; `campaign_recipients` is the expanded audience, so a restarted dispatcher resumes
-- where the last committed batch ended, without a duplicate and without a lost recipient.
--
-- Life cycle: draft → pending_content_check → approved | rejected; approved → scheduled
-- (future send_at) | queued (due); queued → sending → completed; sending ↔ paused;
-- draft/approved/scheduled/queued/sending/paused → cancelled. `completed` = every recipient
-- dispatched and every message final (the status consumer decides it).

CREATE TYPE campaign_status AS ENUM
    ('draft', 'pending_content_check', 'approved', 'rejected', 'scheduled', 'queued',
     'sending', 'paused', 'completed', 'cancelled');

CREATE TABLE campaigns (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sender_id         uuid REFERENCES sender_ids (id) ON DELETE SET NULL,
    -- The text with personalisation tokens ({first_name}, {first_name|there}, custom ones).
    message           text NOT NULL DEFAULT '' CHECK (length(message) <= 39015),
    -- The audience: lists (campaign_lists) and/or a contact filter (the contacts module's
    -- typed filter, as JSON); NULL filter = no filter beyond the lists.
    audience_filter   jsonb CHECK (audience_filter IS NULL OR jsonb_typeof(audience_filter) = 'object'),
    status            campaign_status NOT NULL DEFAULT 'draft',
    rejection_reason  text,
    -- Why it is paused (by the customer, a budget cap, the kill switch).
    pause_reason      text,
    send_at           timestamptz,
    -- The organisation's time zone the schedule was given in (IANA name), for display.
    timezone          text,
    -- Hold promotional traffic outside the recipient country's local day.
    quiet_hours       boolean NOT NULL DEFAULT false,
    priority          message_priority NOT NULL DEFAULT 'normal',
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Expansion progress: recipients written to campaign_recipients, recipients dispatched
    -- (messages + outbox written and reserved).
    total_recipients  integer NOT NULL DEFAULT 0 CHECK (total_recipients >= 0),
    dispatched_count  integer NOT NULL DEFAULT 0 CHECK (dispatched_count >= 0),
    -- Counters kept by the status consumer, in the transaction that applies the events.
    sent_count        integer NOT NULL DEFAULT 0 CHECK (sent_count >= 0),
    delivered_count   integer NOT NULL DEFAULT 0 CHECK (delivered_count >= 0),
    failed_count      integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    expired_count     integer NOT NULL DEFAULT 0 CHECK (expired_count >= 0),
    rejected_count    integer NOT NULL DEFAULT 0 CHECK (rejected_count >= 0),
    opted_out_count   integer NOT NULL DEFAULT 0 CHECK (opted_out_count >= 0),
    estimated_cost    numeric(14, 4) CHECK (estimated_cost >= 0),
    -- Reserved so far by the dispatcher / settled as delivered (finalised) by the consumer.
    reserved_cost     numeric(14, 4) NOT NULL DEFAULT 0 CHECK (reserved_cost >= 0),
    spent_cost        numeric(14, 4) NOT NULL DEFAULT 0 CHECK (spent_cost >= 0),
    -- The final report (counts, delivery rate, cost, by operator), written at completion.
    report            jsonb,
    started_at        timestamptz,
    completed_at      timestamptz,
    cancelled_at      timestamptz,
    -- Soft delete of drafts.
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, id)
);
CREATE INDEX campaigns_account_idx ON campaigns (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX campaigns_status_idx ON campaigns (account_id, status, id DESC) WHERE deleted_at IS NULL;
-- What the dispatcher looks for.
CREATE INDEX campaigns_due_idx ON campaigns (send_at NULLS FIRST)
    WHERE status IN ('scheduled', 'queued', 'sending');

CREATE TABLE campaign_lists (
    campaign_id uuid NOT NULL,
    account_id  uuid NOT NULL,
    list_id     uuid NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
    PRIMARY KEY (campaign_id, list_id),
    FOREIGN KEY (account_id, campaign_id) REFERENCES campaigns (account_id, id) ON DELETE CASCADE
);

-- The expanded audience, one row per distinct destination (duplicates across lists and
-- filter collapse here). `message_id` is set when the recipient's message row is written;
-- the dispatcher takes rows with message_id IS NULL in `seq` order.
CREATE TABLE campaign_recipients (
    campaign_id uuid NOT NULL,
    seq         bigint NOT NULL,
    account_id  uuid NOT NULL,
    contact_id  uuid,
    destination text NOT NULL CHECK (destination ~ '^\+[1-9][0-9]{6,14}$'),
    message_id  uuid,
    PRIMARY KEY (campaign_id, seq),
    UNIQUE (campaign_id, destination),
    FOREIGN KEY (account_id, campaign_id) REFERENCES campaigns (account_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_recipients_pending_idx ON campaign_recipients (campaign_id, seq)
    WHERE message_id IS NULL;

ALTER TABLE messages
    ADD CONSTRAINT messages_campaign_fk FOREIGN KEY (account_id, campaign_id)
        REFERENCES campaigns (account_id, id) ON DELETE CASCADE;

-- Spend caps (seed 001 WO-H): optional daily / monthly caps per account, enforced by the
-- dispatcher; and the kill switch: a row with account_id NULL stops the whole platform.
CREATE TABLE account_budgets (
    account_id    uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    daily_limit   numeric(14, 4) CHECK (daily_limit > 0),
    monthly_limit numeric(14, 4) CHECK (monthly_limit > 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sending_halts (
    id         uuid PRIMARY KEY,
    -- NULL = every account (platform-wide).
    account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    staff_id   uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    lifted_at  timestamptz,
    lifted_by  uuid
);
CREATE UNIQUE INDEX sending_halts_active_idx
    ON sending_halts (coalesce(account_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE lifted_at IS NULL;
