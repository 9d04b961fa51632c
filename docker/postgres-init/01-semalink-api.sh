#!/bin/sh
# First start of the PostgreSQL volume only: the control plane's least-privilege login (its
# grants come from migrations/, applied by the API on start through DATABASE__MIGRATION_URL).
set -eu
psql -v ON_ERROR_STOP=1 -U postgres -d semalink -v pw="$SEMALINK_API_DB_PASSWORD" <<'SQL'
CREATE ROLE semalink_api LOGIN PASSWORD :'pw';
SQL
