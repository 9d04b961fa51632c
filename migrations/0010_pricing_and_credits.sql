-- Pricing (rates per segment with history, upstream costs) and the credits ledger.
--
-- Money is NUMERIC, never floating point: balances NUMERIC(14,4), rates and costs
-- NUMERIC(14,6) (credits per segment; 1 credit = 1 unit of the account's currency).

-- ---------------------------------------------------------------------------------------------
-- Credits: billing mode, postpaid credit limit, low-credit threshold.

CREATE TYPE billing_mode AS ENUM ('prepaid', 'postpaid');

ALTER TABLE credits
    ADD COLUMN billing_mode           billing_mode NOT NULL DEFAULT 'prepaid',
    -- How far below zero a postpaid balance may go (ignored for prepaid).
    ADD COLUMN credit_limit           numeric(14, 4) NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    -- Available credit below which the organisation is told once; NULL = no alert.
    ADD COLUMN low_credit_threshold   numeric(14, 4) CHECK (low_credit_threshold >= 0),
    -- Set when the low-credit notice was raised; cleared when credit is back at the threshold.
    ADD COLUMN low_credit_notified_at timestamptz,
    -- The safety net under the service's own check: a prepaid balance is never negative.
    ADD CONSTRAINT credits_prepaid_not_negative CHECK (billing_mode = 'postpaid' OR balance >= 0);

-- ---------------------------------------------------------------------------------------------
-- The ledger. Append-only: the service role may INSERT and SELECT, never UPDATE or DELETE.
--
-- `amount` is the signed change of credits.balance and `reserved_delta` the change of
-- credits.reserved_balance, so for every account
--     credits.balance          = sum(amount)
--     credits.reserved_balance = sum(reserved_delta)
-- (the invariant the tests and `credits::store::verify` check).
--   topup         +x,  0
--   reservation   -x, +x
--   finalisation  +(reserved - actual), -reserved   (the unused part is released)
--   refund        +reserved, -reserved              (of an open reservation)
--                 +actual, 0                        (of a finalised one)
--   adjustment    ±x,  0

CREATE TYPE credit_tx_type AS ENUM ('topup', 'reservation', 'finalisation', 'refund', 'adjustment');

CREATE TABLE credit_transactions (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type           credit_tx_type NOT NULL,
    amount         numeric(14, 4) NOT NULL,
    reserved_delta numeric(14, 4) NOT NULL DEFAULT 0,
    balance_after  numeric(14, 4) NOT NULL,
    reserved_after numeric(14, 4) NOT NULL CHECK (reserved_after >= 0),
    -- Idempotency key: a message id, a campaign id, an M-Pesa receipt, a staff reference.
    reference      text NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
    actor_type     text NOT NULL CHECK (actor_type IN ('system', 'staff', 'user', 'provider')),
    actor_id       text,
    reason         text CHECK (length(reason) <= 1000),
    metadata       jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, type, reference)
);
CREATE INDEX credit_transactions_account_idx ON credit_transactions (account_id, id DESC);
CREATE INDEX credit_transactions_created_idx ON credit_transactions (created_at DESC);

REVOKE UPDATE, DELETE, TRUNCATE ON credit_transactions FROM semalink_api;

-- ---------------------------------------------------------------------------------------------
-- Rates. Rows are never updated: a change is a new row with its effective_from, so history is
-- kept and future-dated changes apply on their date. The rate in force for a scope is the row
-- with the newest effective_from <= now.
--
--   platform         account_id NULL          the default price list
--   account          account_id = customer    a per-account override (set by staff, or later
--                                             by the customer's agent: its retail price)
--   agent_retail     account_id = agent       an agent's default price list for its customers
--   agent_wholesale  account_id = agent       what the agent itself pays Sema Link
--
-- Precedence for a customer C (parent agent P): account/C, agent_retail/P, agent_wholesale/C,
-- platform; within the winning scope an operator row beats the country row (mno_id NULL).

CREATE TYPE rate_scope AS ENUM ('platform', 'account', 'agent_retail', 'agent_wholesale');

CREATE TABLE pricing_rates (
    id             uuid PRIMARY KEY,
    scope          rate_scope NOT NULL,
    account_id     uuid REFERENCES accounts (id) ON DELETE CASCADE,
    country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    mno_id         text CHECK (mno_id ~ '^[a-z]{2}-[a-z0-9-]+$'),
    rate           numeric(14, 6) NOT NULL CHECK (rate >= 0),
    effective_from timestamptz NOT NULL,
    created_by     uuid,
    note           text CHECK (length(note) <= 500),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'platform') = (account_id IS NULL))
);
CREATE UNIQUE INDEX pricing_rates_once_idx ON pricing_rates
    (scope, coalesce(account_id, '00000000-0000-0000-0000-000000000000'), country,
     coalesce(mno_id, ''), effective_from);
CREATE INDEX pricing_rates_lookup_idx ON pricing_rates (country, scope, account_id, effective_from DESC);

REVOKE UPDATE, DELETE, TRUNCATE ON pricing_rates FROM semalink_api;

-- What the upstream (aggregator) charges per segment, for margin visibility. Same history rule.
CREATE TABLE upstream_costs (
    id             uuid PRIMARY KEY,
    upstream       text NOT NULL CHECK (upstream ~ '^[a-z0-9_-]{1,40}$'),
    country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    mno_id         text CHECK (mno_id ~ '^[a-z]{2}-[a-z0-9-]+$'),
    cost           numeric(14, 6) NOT NULL CHECK (cost >= 0),
    effective_from timestamptz NOT NULL,
    created_by     uuid,
    note           text CHECK (length(note) <= 500),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX upstream_costs_once_idx ON upstream_costs
    (upstream, country, coalesce(mno_id, ''), effective_from);
CREATE INDEX upstream_costs_lookup_idx ON upstream_costs (country, effective_from DESC);

REVOKE UPDATE, DELETE, TRUNCATE ON upstream_costs FROM semalink_api;
