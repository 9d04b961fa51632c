-- The service logs in as semalink_api itself (least privilege) instead of connecting as a
-- superuser and SET ROLE-ing, which RESET ROLE undoes. Roles are cluster-wide and making one
-- LOGIN needs CREATEROLE: when the migration owner has it this does it, otherwise the DBA runs
-- `ALTER ROLE semalink_api LOGIN PASSWORD '…'` once (scripts/services.sh does it locally).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'semalink_api' AND rolcanlogin) THEN
        ALTER ROLE semalink_api LOGIN;
    END IF;
EXCEPTION
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot make semalink_api a login role; ask the DBA to ALTER ROLE semalink_api LOGIN';
END
$$;
-- It may connect to this database and use the schema; nothing more than the table grants of
-- 0005 (and later migrations' default privileges), no CREATE.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO semalink_api', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM semalink_api;
