-- The ledger's look-up by reference (`credits::ledger::by_reference`: every reserve, finalise
-- and refund first reads the rows already written under its reference, so that a replay is
-- answered by the first movement) must not grow with the account's ledger.
--
-- The only index that starts with the account and holds the reference is the unique
-- (account_id, type, reference), and the query filters `type = ANY($3)`: with the generic plan
-- a prepared statement gets after a few runs (sqlx prepares and caches every statement),
-- PostgreSQL matches only `account_id` and `reference` against that index and walks every
-- entry of the account. Measured with POST /v1/messages (control-plane/scripts/perf-messages.sh):
-- 1.2 ms a call at ~3,000 ledger rows and rising, inside the credits row lock.
-- An index on (account_id, reference) answers it from one leaf page at any size.
CREATE INDEX credit_transactions_account_reference_idx
    ON credit_transactions (account_id, reference);
