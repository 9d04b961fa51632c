-- Staff admin modules (CRM, impersonation, staff invitations, login history, staff
-- notifications). Grants follow 0005's default privileges (SELECT/INSERT/UPDATE/DELETE for
-- semalink_api on every new table).

-- Every login attempt of a customer or a staff member: time, IP, user agent, outcome.
-- `principal_id` is the user or staff id the typed email belonged to (null when unknown).
CREATE TABLE login_events (
    id           uuid PRIMARY KEY,
    scope        text NOT NULL CHECK (scope IN ('user', 'staff')),
    principal_id uuid,
    email        text NOT NULL,
    ip           text,
    user_agent   text CHECK (length(user_agent) <= 300),
    success      boolean NOT NULL,
    -- Why a failure failed: `invalid_credentials`, `locked`, `deactivated`.
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_events_principal_idx ON login_events (scope, principal_id, id DESC);

-- Suspension freezes an account's credits: nothing can be reserved while set.
ALTER TABLE credits ADD COLUMN frozen_at timestamptz;

-- A deleted organisation keeps its row (the ledger and audit refer to it), anonymised.
ALTER TABLE accounts ADD COLUMN deleted_at timestamptz;
-- Who suspended, when and why (cleared on reactivation).
ALTER TABLE accounts ADD COLUMN suspended_at timestamptz,
    ADD COLUMN suspended_reason text CHECK (length(suspended_reason) <= 1000);

-- Messages written but not yet published when their account was suspended: held (the
-- publisher skips suspended accounts) and flagged here so staff can see what is waiting.
ALTER TABLE message_outbox ADD COLUMN held_reason text CHECK (length(held_reason) <= 200);

-- Read-only impersonation of one organisation by a staff member: short-lived, revocable.
CREATE TABLE impersonations (
    id         uuid PRIMARY KEY,
    staff_id   uuid NOT NULL REFERENCES admin_staff (id) ON DELETE CASCADE,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX impersonations_staff_idx ON impersonations (staff_id);

-- Staff invitations: the invitee is inactive until they set a password with the token.
CREATE TABLE staff_invitations (
    id         uuid PRIMARY KEY,
    staff_id   uuid NOT NULL REFERENCES admin_staff (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A removed staff member keeps their row (the audit log names them) but can do nothing.
ALTER TABLE admin_staff ADD COLUMN removed_at timestamptz;

-- The staff bell: one row per (event, staff member) it is addressed to.
CREATE TABLE staff_notifications (
    id         uuid PRIMARY KEY,
    staff_id   uuid NOT NULL REFERENCES admin_staff (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body       text NOT NULL CHECK (length(body) <= 4000),
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_notifications_staff_idx ON staff_notifications (staff_id, id DESC);

-- Audit viewer filters: by staff, by target, by module and action (newest first by id).
CREATE INDEX audit_log_staff_idx ON audit_log (staff_id, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id DESC);

-- The engineering module lists applied migrations: read-only, without the checksums.
GRANT SELECT (version, description, installed_on, success, execution_time) ON _sqlx_migrations
    TO semalink_api;
