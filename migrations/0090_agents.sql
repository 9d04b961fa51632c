-- Agents (resellers, issue 18): sub-customers an agent creates and deactivates, the send
-- limits it sets for them, and what each sub-customer's message costs the agent.
--
-- A sub-customer (`accounts.type = 'agent_customer'`) pays its agent at the retail price
-- the agent set (the `account` price list of the sub-customer, see 0010), while the agent's
-- own credits pay Sema Link the agent's price (its `agent_wholesale` list). A message keeps
-- both: `cost` / `unit_price` stay what the sending organisation is charged (retail for a
-- sub-customer, what every customer-facing view shows), and `billed_*` say whose credits were
-- reserved and how much (the agent's, at wholesale). NULL `billed_*` = the sending account
-- paid `cost` itself (direct customers, and every message written before this migration).

-- Deactivated by its agent: sends refused (403) and held, data kept, reversible by the agent.
-- Independent of the staff suspension (`status = 'suspended'`), which the agent cannot lift.
ALTER TABLE accounts ADD COLUMN deactivated_at timestamptz,
    ADD COLUMN deactivated_reason text CHECK (length(deactivated_reason) <= 1000);
CREATE INDEX accounts_deactivated_idx ON accounts (id) WHERE deactivated_at IS NOT NULL;

-- The owner of a new sub-customer is invited through the ordinary invitation flow; only
-- such a founding invitation (written by the agent module, never by the team endpoint) may
-- carry the owner role.
ALTER TABLE invitations ADD COLUMN founding boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT invitations_role_check,
    ADD CONSTRAINT invitations_role_check CHECK (role <> 'owner' OR founding);

-- Who paid for a message, and how much (no foreign key: accounts are never deleted, only
-- anonymised, and the check would cost every 5,000-row batch a lookup per row).
ALTER TABLE messages ADD COLUMN billed_account_id uuid,
    ADD COLUMN billed_unit_price numeric(14, 6) CHECK (billed_unit_price >= 0),
    ADD COLUMN billed_cost numeric(14, 4) CHECK (billed_cost >= 0),
    ADD CONSTRAINT messages_billed_check
        CHECK ((billed_account_id IS NULL) = (billed_cost IS NULL)
               AND (billed_cost IS NULL) = (billed_unit_price IS NULL));
-- The agent's usage reports: its sub-customers' messages by day.
CREATE INDEX messages_billed_idx ON messages (billed_account_id, account_id, id)
    WHERE billed_account_id IS NOT NULL;

-- Send limits an agent sets for one sub-customer, in the sub-customer's (retail) money:
-- a daily and a monthly cap (measured like `account_budgets`: the cost of the messages written
-- in the period in the sub-customer's time zone, less those cancelled, failed, rejected or
-- expired) and a credit line (the same spend since `credit_line_since`, when the agent last
-- opened or renewed the line). Enforced by the messages API (402) and the dispatcher (pause).
CREATE TABLE agent_customer_limits (
    account_id        uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    agent_id          uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    daily_limit       numeric(14, 4) CHECK (daily_limit > 0),
    monthly_limit     numeric(14, 4) CHECK (monthly_limit > 0),
    credit_line       numeric(14, 4) CHECK (credit_line >= 0),
    credit_line_since timestamptz,
    updated_by        uuid,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((credit_line IS NULL) = (credit_line_since IS NULL))
);
CREATE INDEX agent_customer_limits_agent_idx ON agent_customer_limits (agent_id);
