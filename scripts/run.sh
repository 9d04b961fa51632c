#!/usr/bin/env bash
# Runs the system on one machine with the embedded defaults: the SMSC simulator stands in for
# Celcom, and the control-plane API serves on http://127.0.0.1:8080 (Swagger UI at /docs).
# Starts (or installs) PostgreSQL first and creates the `semalink` database when it is missing.
# Ctrl-C stops everything. The engine joins this script when its issue lands.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/semalink}"
db=${DATABASE_URL##*/}; db=${db%%\?*}
if ! psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
fi
cargo build --release -p semalink-loadtest --bin smsc-sim -p semalink-control-plane --bin semalink-api
bin="${CARGO_TARGET_DIR:-target}/release"
"$bin/smsc-sim" --config configs/smsc-sim.toml &
sim=$!
trap 'kill "$sim" 2>/dev/null || true' EXIT INT TERM
echo "run.sh: SMSC simulator on 127.0.0.1:2775 (stats: http://127.0.0.1:8775/stats)"
echo "run.sh: control-plane API on http://127.0.0.1:8080 (docs: http://127.0.0.1:8080/docs)"
"$bin/semalink-api"
