-- Contacts, lists (many-to-many through memberships) and the account-level suppression list.
--
-- Phone numbers are parsed by the protocol crate (`contacts::phone::normalise`): `phone` holds
-- the E.164 form when the input parses and the trimmed input when it does not, so one unique
-- index keeps a number once per account (trashed rows included, until they are purged) and
-- imports can use `ON CONFLICT (account_id, phone)`. `phone_raw` keeps what was typed.
--
-- List counts (total/valid/invalid over the list's non-trashed members) are kept by
-- statement-level triggers with transition tables, so one set-based import statement costs
-- one UPDATE per list rather than one per row, and every writer (API, imports, later modules)
-- keeps them right without having to remember. Concurrency: the membership triggers take
-- FOR SHARE on the member contacts before counting, and contact updates take their row lock,
-- so a membership change and a trash/status change of the same contact serialise and the
-- second one counts with the first one's result. Lists are locked in id order (and contacts
-- are locked by the application in id order) so concurrent bulk edits do not deadlock.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TYPE contact_status AS ENUM ('valid', 'invalid');

CREATE TABLE contacts (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- E.164 (`+254712345678`) when the number parses, else the trimmed input.
    phone          text NOT NULL CHECK (length(phone) BETWEEN 1 AND 64),
    phone_raw      text NOT NULL CHECK (length(phone_raw) BETWEEN 1 AND 64),
    status         contact_status NOT NULL,
    invalid_reason text CHECK (length(invalid_reason) <= 300),
    -- Operator route key from the protocol crate's prefix table (`ke-safaricom`), if known.
    mno_id         text,
    country        text CHECK (country ~ '^[A-Z]{2}$'),
    first_name     text CHECK (length(first_name) <= 100),
    last_name      text CHECK (length(last_name) <= 100),
    email          text CHECK (length(email) <= 254),
    tags           text[] NOT NULL DEFAULT '{}',
    notes          text CHECK (length(notes) <= 4000),
    consent_source text CHECK (length(consent_source) <= 200),
    consent_at     timestamptz,
    consent_note   text CHECK (length(consent_note) <= 2000),
    is_opted_out   boolean NOT NULL DEFAULT false,
    opted_out_at   timestamptz,
    -- Extra columns mapped by an import (`{"city": "Nakuru"}`): string values only.
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    -- Set when moved to trash; purged 90 days later.
    deleted_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- What search matches: names, phone (E.164 and as typed) and email, lowercased.
    search         text GENERATED ALWAYS AS (lower(
        coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || phone || ' '
        || phone_raw || ' ' || coalesce(email, ''))) STORED,
    CHECK ((status = 'valid') = (invalid_reason IS NULL)),
    CHECK (is_opted_out = (opted_out_at IS NOT NULL)),
    -- Target of the memberships' composite foreign key (a membership never crosses tenants).
    UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX contacts_account_phone_key ON contacts (account_id, phone);
CREATE INDEX contacts_active_idx ON contacts (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX contacts_trash_idx ON contacts (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX contacts_search_idx ON contacts USING gin (search gin_trgm_ops);
CREATE INDEX contacts_tags_idx ON contacts USING gin (tags);

CREATE TABLE contact_lists (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description   text CHECK (length(description) <= 1000),
    -- Over the list's non-trashed members; maintained by the triggers below.
    total_count   integer NOT NULL DEFAULT 0 CHECK (total_count >= 0),
    valid_count   integer NOT NULL DEFAULT 0 CHECK (valid_count >= 0),
    invalid_count integer NOT NULL DEFAULT 0 CHECK (invalid_count >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (total_count = valid_count + invalid_count),
    UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX contact_lists_name_key ON contact_lists (account_id, lower(name));

CREATE TABLE contact_list_memberships (
    list_id    uuid NOT NULL,
    contact_id uuid NOT NULL,
    account_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, contact_id),
    FOREIGN KEY (account_id, list_id) REFERENCES contact_lists (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_list_memberships_contact_idx ON contact_list_memberships (contact_id);

-- Numbers an account must never send to (STOP replies, manual entries, imports), whether or
-- not a contact holds them.
CREATE TABLE suppressions (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    phone      text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    reason     text CHECK (length(reason) <= 500),
    source     text NOT NULL CHECK (source IN ('stop', 'manual', 'import', 'api')),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, phone)
);
CREATE INDEX suppressions_account_idx ON suppressions (account_id, id DESC);

-- Applies per-list deltas, locking the lists in id order.
CREATE FUNCTION contact_lists_apply_deltas(deltas jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM contact_lists
     WHERE id IN (SELECT (d ->> 'list_id')::uuid FROM jsonb_array_elements(deltas) d)
     ORDER BY id FOR NO KEY UPDATE;
    UPDATE contact_lists l
       SET total_count = l.total_count + (d ->> 'total')::int,
           valid_count = l.valid_count + (d ->> 'valid')::int,
           invalid_count = l.invalid_count + (d ->> 'invalid')::int
      FROM jsonb_array_elements(deltas) d
     WHERE l.id = (d ->> 'list_id')::uuid;
END
$$;

-- Members added or removed: count the ones whose contact is not trashed (sign +1 or -1).
CREATE FUNCTION contact_memberships_count(sign int, list_ids uuid[], contact_ids uuid[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    deltas jsonb;
BEGIN
    -- Memberships removed with their list (a list delete cascading): nothing left to count,
    -- and locking the contacts now (after the list) would invert the lock order.
    IF NOT EXISTS (SELECT 1 FROM contact_lists WHERE id = ANY (list_ids)) THEN
        RETURN;
    END IF;
    -- Serialise with concurrent trash/status changes of the same contacts (see the header);
    -- this statement's fresh snapshot then counts with their committed result. Rows this
    -- transaction wrote itself (an import's new or updated contacts) cannot change under it
    -- and are not locked again: that halves the cost of a 100,000-row import's memberships.
    PERFORM 1 FROM contacts
     WHERE id = ANY (contact_ids) AND xmin <> pg_current_xact_id()::xid
     ORDER BY id FOR SHARE;
    SELECT jsonb_agg(jsonb_build_object(
               'list_id', list_id, 'total', sign * total,
               'valid', sign * valid, 'invalid', sign * invalid) ORDER BY list_id)
      INTO deltas
      FROM (SELECT m.list_id,
                   count(*) AS total,
                   count(*) FILTER (WHERE c.status = 'valid') AS valid,
                   count(*) FILTER (WHERE c.status = 'invalid') AS invalid
              FROM unnest(list_ids, contact_ids) AS m (list_id, contact_id)
              JOIN contacts c ON c.id = m.contact_id AND c.deleted_at IS NULL
             GROUP BY m.list_id) per_list;
    IF deltas IS NOT NULL THEN
        PERFORM contact_lists_apply_deltas(deltas);
    END IF;
END
$$;

CREATE FUNCTION contact_memberships_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM contact_memberships_count(1, array_agg(list_id), array_agg(contact_id))
       FROM new_rows;
    RETURN NULL;
END
$$;

CREATE FUNCTION contact_memberships_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM contact_memberships_count(-1, array_agg(list_id), array_agg(contact_id))
       FROM old_rows;
    RETURN NULL;
END
$$;

CREATE TRIGGER contact_memberships_insert_counts
    AFTER INSERT ON contact_list_memberships
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contact_memberships_inserted();
CREATE TRIGGER contact_memberships_delete_counts
    AFTER DELETE ON contact_list_memberships
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contact_memberships_deleted();

-- Contacts trashed, restored or changing status: move their lists' counts.
CREATE FUNCTION contacts_updated_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    deltas jsonb;
BEGIN
    WITH changed AS (
        SELECT n.id,
               (n.deleted_at IS NULL)::int - (o.deleted_at IS NULL)::int AS total,
               (n.deleted_at IS NULL AND n.status = 'valid')::int
                 - (o.deleted_at IS NULL AND o.status = 'valid')::int AS valid,
               (n.deleted_at IS NULL AND n.status = 'invalid')::int
                 - (o.deleted_at IS NULL AND o.status = 'invalid')::int AS invalid
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE n.deleted_at IS DISTINCT FROM o.deleted_at OR n.status <> o.status
    )
    SELECT jsonb_agg(jsonb_build_object(
               'list_id', list_id, 'total', total, 'valid', valid, 'invalid', invalid)
               ORDER BY list_id)
      INTO deltas
      FROM (SELECT m.list_id, sum(c.total) AS total, sum(c.valid) AS valid,
                   sum(c.invalid) AS invalid
              FROM changed c JOIN contact_list_memberships m ON m.contact_id = c.id
             GROUP BY m.list_id) per_list
     WHERE total <> 0 OR valid <> 0 OR invalid <> 0;
    IF deltas IS NOT NULL THEN
        PERFORM contact_lists_apply_deltas(deltas);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER contacts_update_counts
    AFTER UPDATE ON contacts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_updated_counts();

-- A contact deleted outright while still counted (not through the trash) leaves its lists'
-- counts first: by the time the cascade removes its memberships the contact is gone, so the
-- membership trigger no longer counts it. Row level and BEFORE, because an AFTER trigger
-- would run after the cascade has already removed the memberships.
CREATE FUNCTION contacts_deleted_counts() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    deltas jsonb;
BEGIN
    IF OLD.deleted_at IS NULL THEN
        SELECT jsonb_agg(jsonb_build_object(
                   'list_id', list_id, 'total', -1,
                   'valid', -(OLD.status = 'valid')::int,
                   'invalid', -(OLD.status = 'invalid')::int) ORDER BY list_id)
          INTO deltas
          FROM contact_list_memberships WHERE contact_id = OLD.id;
        IF deltas IS NOT NULL THEN
            PERFORM contact_lists_apply_deltas(deltas);
        END IF;
    END IF;
    RETURN OLD;
END
$$;

CREATE TRIGGER contacts_delete_counts
    BEFORE DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_deleted_counts();

-- The contacts of a list a campaign may send to: not trashed, valid, not opted out and not on
-- the account's suppression list.
CREATE FUNCTION sendable_contacts(p_account_id uuid, p_list_id uuid) RETURNS SETOF contacts
LANGUAGE sql STABLE AS $$
    SELECT c.*
      FROM contact_list_memberships m
      JOIN contacts c ON c.id = m.contact_id
     WHERE m.list_id = p_list_id
       AND m.account_id = p_account_id
       AND c.account_id = p_account_id
       AND c.deleted_at IS NULL
       AND c.status = 'valid'
       AND NOT c.is_opted_out
       AND NOT EXISTS (SELECT 1 FROM suppressions s
                        WHERE s.account_id = p_account_id AND s.phone = c.phone)
$$;
