-- What the campaign dispatcher needs beyond the 0050 contract.
--
-- * `cancelled`, a message status: a campaign cancelled while messages still wait in the
--   outbox takes them out, marks them `cancelled` and refunds their share of the batch
--   reservation in the same transaction (they never reach the engine).
-- * `campaign_recipients.skipped_reason`: a recipient the dispatcher cannot send to (no rate
--   for its destination) is marked once instead of being retried forever; it leaves
--   `total_recipients`, so "dispatched = total" still means "every sendable one written".
-- * The pending index follows: rows neither dispatched nor skipped; and a message id is
--   written to one recipient row at most (with `message_id IS NULL` in the batch's UPDATE,
--   the guard against a second dispatcher writing the same recipient twice).

ALTER TYPE message_status ADD VALUE IF NOT EXISTS 'cancelled';

ALTER TABLE campaign_recipients
    ADD COLUMN skipped_reason text CHECK (length(skipped_reason) BETWEEN 1 AND 200),
    ADD CHECK (message_id IS NULL OR skipped_reason IS NULL);

DROP INDEX campaign_recipients_pending_idx;
CREATE INDEX campaign_recipients_pending_idx ON campaign_recipients (campaign_id, seq)
    WHERE message_id IS NULL AND skipped_reason IS NULL;

CREATE UNIQUE INDEX campaign_recipients_message_key ON campaign_recipients (message_id)
    WHERE message_id IS NOT NULL;
