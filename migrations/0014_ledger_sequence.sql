-- The order in which ledger rows were applied. created_at is the transaction's start (a
-- movement that waited for the account's row lock gets an earlier time than the one it
-- waited for) and ids come from the application's clocks; seq is taken at INSERT, under the
-- account's row lock, so per account it is the order of application. The API sorts by it.
CREATE SEQUENCE credit_transactions_seq_seq AS bigint;
ALTER TABLE credit_transactions ADD COLUMN seq bigint;
UPDATE credit_transactions t SET seq = o.n
  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM credit_transactions) o
 WHERE o.id = t.id;
SELECT setval('credit_transactions_seq_seq', coalesce(max(seq), 0) + 1, false) FROM credit_transactions;
ALTER TABLE credit_transactions
    ALTER COLUMN seq SET DEFAULT nextval('credit_transactions_seq_seq'),
    ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE credit_transactions_seq_seq OWNED BY credit_transactions.seq;
CREATE UNIQUE INDEX credit_transactions_seq_key ON credit_transactions (seq);
CREATE INDEX credit_transactions_account_seq_idx ON credit_transactions (account_id, seq DESC);
GRANT USAGE, SELECT ON SEQUENCE credit_transactions_seq_seq TO semalink_api;
