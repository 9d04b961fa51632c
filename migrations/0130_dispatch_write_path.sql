-- The campaign dispatcher's write path, made cheap (issue 14's 1,000,000-recipient target;
-- docs/adr/cp-0004-dispatch-write-path.md gives the reasons, docs/performance.md the figures).
--
-- Per-row foreign-key checks were ~70 % of a batch's write statement: PostgreSQL runs one
-- `SELECT … FOR KEY SHARE` on the parent per inserted row, so a 5,000-message batch ran
-- 20,000 of them, and an expansion 1,000,000. The constraints dropped here are those whose
-- parent row every writer already holds in its own transaction:
--
-- * campaign_recipients → campaigns and messages → campaigns: the only writer is the
--   dispatcher, which holds the campaign's row lock (FOR UPDATE while expanding, FOR KEY
--   SHARE while writing batches) for the whole transaction, so the campaign exists and
--   cannot be deleted under it;
-- * messages → accounts and messages → sender_ids: both writers (the send, a dispatcher
--   batch) lock the account and the sender ID row `FOR KEY SHARE` once per statement or
--   batch — the lock each per-row check took, once;
-- * message_events → messages and message_outbox → messages: every writer inserts them for
--   message rows it inserted or locked in the same statement or transaction (the send and
--   the dispatcher from the INSERT's own RETURNING, the publisher from its UPDATE …
--   RETURNING, a cancel from its UPDATE, the status consumer for rows it holds FOR UPDATE).
--
-- Their ON DELETE CASCADE stays, as statement-level triggers (one DELETE per statement with
-- the deleted rows, not one per row). Campaigns and messages are never deleted by the
-- service (soft delete, REVOKE DELETE); the cascade matters when an account is removed.
--
-- Redundant indexes go: messages_account_idx duplicates the UNIQUE (account_id, id) index
-- (a b-tree is read backwards as well); campaign_recipients' UNIQUE (campaign_id,
-- destination) repeats contacts' UNIQUE (account_id, phone) — the expansion selects each
-- contact once, and it is the only writer; campaign_recipients_message_key guarded message
-- ids that are fresh UUIDv7 per row (messages' primary key rejects a repeat) and served no
-- query. The guard against two dispatchers writing one recipient is unchanged: the batch's
-- row locks (FOR UPDATE SKIP LOCKED) and `message_id IS NULL` in its UPDATE.

ALTER TABLE campaign_recipients
    DROP CONSTRAINT campaign_recipients_account_id_campaign_id_fkey,
    DROP CONSTRAINT campaign_recipients_campaign_id_destination_key;
DROP INDEX campaign_recipients_message_key;

ALTER TABLE messages
    DROP CONSTRAINT messages_campaign_fk,
    DROP CONSTRAINT messages_account_id_fkey,
    DROP CONSTRAINT messages_sender_id_fkey;
ALTER TABLE message_events DROP CONSTRAINT message_events_account_id_message_id_fkey;
ALTER TABLE message_outbox DROP CONSTRAINT message_outbox_message_id_fkey;

DROP INDEX messages_account_idx;

-- ON DELETE CASCADE / SET NULL of the dropped keys.
CREATE FUNCTION accounts_deleted_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM messages m USING old_rows o WHERE m.account_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER accounts_delete_messages AFTER DELETE ON accounts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION accounts_deleted_messages();

CREATE FUNCTION sender_ids_deleted_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages m SET sender_id = NULL FROM old_rows o WHERE m.sender_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER sender_ids_delete_messages AFTER DELETE ON sender_ids
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION sender_ids_deleted_messages();

CREATE FUNCTION campaigns_deleted_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM campaign_recipients r USING old_rows o WHERE r.campaign_id = o.id;
    DELETE FROM messages m USING old_rows o
        WHERE m.campaign_id = o.id AND m.account_id = o.account_id;
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_delete_cascade AFTER DELETE ON campaigns
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION campaigns_deleted_cascade();

CREATE FUNCTION messages_deleted_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_outbox x USING old_rows o WHERE x.message_id = o.id;
    DELETE FROM message_events e USING old_rows o WHERE e.message_id = o.id;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_delete_cascade AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION messages_deleted_cascade();
