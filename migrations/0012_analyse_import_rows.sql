-- Fresh statistics for the staged import rows before the set-based dry-run and commit
-- statements, so their plans do not depend on autovacuum having run. ANALYZE needs the table's
-- owner; the service role calls this function, which runs as the owner and does only that.
CREATE FUNCTION analyse_contact_import_rows() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    ANALYZE public.contact_import_rows;
END
$$;
REVOKE ALL ON FUNCTION analyse_contact_import_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analyse_contact_import_rows() TO semalink_api;
