-- Sema Link staff (the admin app) and the append-only audit log of their actions.

CREATE TYPE staff_module AS ENUM
    ('crm', 'sender_ids', 'billing', 'pricing', 'agents', 'campaigns', 'engineering', 'audit', 'staff');
-- Declared in ascending order so that comparisons (level >= 'admin') work.
CREATE TYPE staff_level AS ENUM ('none', 'read', 'admin', 'owner');

CREATE TABLE admin_staff (
    id                   uuid PRIMARY KEY,
    email                text NOT NULL,
    name                 text NOT NULL,
    phone                text,
    password_hash        text NOT NULL,
    is_active            boolean NOT NULL DEFAULT true,
    must_change_password boolean NOT NULL DEFAULT true,
    failed_login_count   integer NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    last_login_at        timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX admin_staff_email_key ON admin_staff (lower(email));

ALTER TABLE sessions ADD FOREIGN KEY (staff_id) REFERENCES admin_staff (id) ON DELETE CASCADE;

-- Absent rows mean 'none'.
CREATE TABLE staff_permissions (
    staff_id uuid NOT NULL REFERENCES admin_staff (id) ON DELETE CASCADE,
    module   staff_module NOT NULL,
    level    staff_level NOT NULL,
    PRIMARY KEY (staff_id, module)
);

CREATE TABLE audit_log (
    id          uuid PRIMARY KEY,
    -- No foreign key: the log must outlive the staff rows it mentions.
    staff_id    uuid,
    module      staff_module NOT NULL,
    action      text NOT NULL,
    target_type text,
    target_id   text,
    metadata    jsonb NOT NULL DEFAULT '{}',
    ip          text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC);
