#!/usr/bin/env bash
# Runs the system on one machine with the embedded defaults: the SMSC simulator stands in for
# Celcom, the SMPP engine binds to it (HTTP ingress on 127.0.0.1:8090, in-process correlation
# and status sink), and the control-plane API serves on http://127.0.0.1:8080 (Swagger UI at
# /docs). Starts (or installs) the local services first and creates the `semalink` database
# when it is missing. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
# The owner runs migrations; the API logs in as the least-privilege role semalink_api.
export DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-postgres://postgres@127.0.0.1:5432/semalink}"
db=${DATABASE_OWNER_URL##*/}; db=${db%%\?*}
export DATABASE_URL="${DATABASE_URL:-postgres://semalink_api@127.0.0.1:5432/$db}"
if ! psql "${DATABASE_OWNER_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql "${DATABASE_OWNER_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
fi
cargo build --release -p semalink-loadtest --bin smsc-sim -p semalink-engine --bin semalink-engine \
  -p semalink-control-plane --bin semalink-api
bin="${CARGO_TARGET_DIR:-target}/release"
"$bin/smsc-sim" --config configs/smsc-sim.toml &
sim=$!
"$bin/semalink-engine" --config configs/engine.toml &
engine=$!
trap 'kill "$engine" "$sim" 2>/dev/null || true' EXIT INT TERM
echo "run.sh: SMSC simulator on 127.0.0.1:2775 (stats: http://127.0.0.1:8775/stats)"
echo "run.sh: SMPP engine, HTTP ingress on http://127.0.0.1:8090/v1/messages (/ready, /metrics)"
echo "run.sh: control-plane API on http://127.0.0.1:8080 (docs: http://127.0.0.1:8080/docs)"
"$bin/semalink-api"
