#!/usr/bin/env bash
# Runs the whole product in one process: `semalink up` (the SMSC simulator standing in for
# Celcom, the SMPP engine bound to it, the control-plane API on http://127.0.0.1:8080 with its
# Swagger UI at /docs, one in-process bus between them), after starting (or installing) the
# local services and creating the `semalink` database when it is missing. The first start
# seeds a demo organisation and prints its login; `scripts/run.sh demo` (or
# `target/release/semalink demo`) then sends to its 10,000 contacts. Arguments go to
# `semalink up` (e.g. --no-demo, --amqp URL, --redis URL, --upstream host:port,
# --only engine|api|sim, --api-port N); `demo [args]` runs `semalink demo` instead. Ctrl-C
# stops everything, draining in order.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/release/semalink"
if [[ "${1:-}" == demo ]]; then
  shift
  cargo build --release -p semalink --bin semalink
  exec "$bin" demo "$@"
fi
scripts/services.sh
# The owner runs migrations; the API logs in as the least-privilege role semalink_api.
export DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-postgres://postgres@127.0.0.1:5432/semalink}"
db=${DATABASE_OWNER_URL##*/}; db=${db%%\?*}
export DATABASE_URL="${DATABASE_URL:-postgres://semalink_api@127.0.0.1:5432/$db}"
if ! psql "${DATABASE_OWNER_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql "${DATABASE_OWNER_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
fi
cargo build --release -p semalink --bin semalink
exec "$bin" up "$@"
