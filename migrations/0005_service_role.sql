-- The role the API works as. The service connects as (or SETs ROLE to) semalink_api, which may
-- read and write the application tables but may only INSERT into (and read) audit_log.
-- Roles are cluster-wide: creating it tolerates another database having created it first.

DO $$
BEGIN
    CREATE ROLE semalink_api NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO semalink_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO semalink_api;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO semalink_api;
-- Tables added by later migrations (run by the owner) get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO semalink_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO semalink_api;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM semalink_api;
REVOKE SELECT, INSERT, UPDATE, DELETE ON _sqlx_migrations FROM semalink_api;
