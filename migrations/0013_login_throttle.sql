-- Login throttling per (email as typed, client IP) and per email across every IP (ip = '*').
-- Keyed by the typed address, not the user: unknown addresses are throttled like real ones,
-- so answers do not reveal which exist. Replaces users/admin_staff.failed_login_count and
-- locked_until (left in place, no longer written).
CREATE TABLE login_throttle (
    scope         text NOT NULL CHECK (scope IN ('user', 'staff')),
    email         text NOT NULL,
    ip            text NOT NULL,
    failures      integer NOT NULL DEFAULT 0,
    blocked_until timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, email, ip)
);
-- Old rows are only useful within the lock-out window; this index lets a sweep find them.
CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_at);
