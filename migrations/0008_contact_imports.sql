-- CSV contact imports: the import (status, counts, mapping, target list) and its staged rows.
--
-- The upload streams the file through the parser and COPYs one staged row per CSV record into
-- `contact_import_rows` (valid or with the reason it is not); the dry-run report and the commit
-- are set-based statements over those rows (window functions for duplicates within the file,
-- a join for numbers the account already has, INSERT … SELECT … ON CONFLICT for the commit),
-- so 100,000 rows cost a handful of statements rather than 100,000 round trips.

CREATE TABLE contact_imports (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Who uploaded it: a user, or an API key (then created_by is NULL).
    created_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    api_key_id        uuid REFERENCES api_keys (id) ON DELETE SET NULL,
    filename          text CHECK (length(filename) <= 255),
    -- validating: the upload is streaming rows in; uploaded: rows staged, duplicates not yet
    -- counted; validated: the dry-run report is ready; importing: the commit is running;
    -- completed / failed / cancelled are final.
    status            text NOT NULL CHECK (status IN ('validating', 'uploaded', 'validated',
                          'importing', 'completed', 'failed', 'cancelled')),
    error             text CHECK (length(error) <= 1000),
    encoding          text NOT NULL,
    delimiter         text NOT NULL CHECK (length(delimiter) = 1),
    has_header        boolean NOT NULL,
    -- Header names (or empty without a header row) and the 1-based column per field.
    columns           text[] NOT NULL DEFAULT '{}',
    mapping           jsonb NOT NULL,
    default_country   text NOT NULL CHECK (default_country ~ '^[A-Z]{2}$'),
    bytes_received    bigint NOT NULL DEFAULT 0,
    content_length    bigint,
    total_rows        integer NOT NULL DEFAULT 0,
    valid_rows        integer NOT NULL DEFAULT 0,
    invalid_rows      integer NOT NULL DEFAULT 0,
    -- Valid rows repeating an earlier row's number (not imported again).
    duplicate_rows    integer NOT NULL DEFAULT 0,
    -- Valid, first-in-file numbers the account already has (linked, not re-created), and
    -- those of them in the trash (left there, not linked).
    existing_rows     integer NOT NULL DEFAULT 0,
    trashed_rows      integer NOT NULL DEFAULT 0,
    -- Cells that looked like spreadsheet formulas and were stored with a leading apostrophe.
    neutralised_cells integer NOT NULL DEFAULT 0,
    list_id           uuid REFERENCES contact_lists (id) ON DELETE SET NULL,
    created_contacts  integer NOT NULL DEFAULT 0,
    linked_contacts   integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    validated_at      timestamptz,
    committed_at      timestamptz
);
CREATE INDEX contact_imports_account_idx ON contact_imports (account_id, id DESC);

CREATE TABLE contact_import_rows (
    import_id   uuid NOT NULL REFERENCES contact_imports (id) ON DELETE CASCADE,
    -- 1-based record number in the file (the header, when there is one, is 1).
    row_no      integer NOT NULL,
    -- Pre-generated id (UUIDv7) for the contact this row creates; NULL when rejected.
    contact_id  uuid,
    -- Why the row cannot be imported; NULL for a valid row.
    reason      text,
    -- The decoded fields as they were in the file, for the rejected-rows download.
    fields      text[] NOT NULL,
    phone       text,
    phone_raw   text,
    mno_id      text,
    country     text,
    first_name  text,
    last_name   text,
    email       text,
    tags        text[] NOT NULL DEFAULT '{}',
    notes       text,
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
    neutralised integer NOT NULL DEFAULT 0,
    PRIMARY KEY (import_id, row_no),
    CHECK ((reason IS NULL) = (contact_id IS NOT NULL))
);
CREATE INDEX contact_import_rows_phone_idx ON contact_import_rows (import_id, phone)
    WHERE reason IS NULL;
