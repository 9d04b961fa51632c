#!/usr/bin/env bash
# Measures semalink-api under load on loopback with wrk: requests/s and latency percentiles for
# POST /v1/auth/login (argon2id at the shipped cost + a session insert) and an authenticated
# GET /v1/me (JWT check + one indexed query). Figures go to docs/performance.md.
# Needs: PostgreSQL on 127.0.0.1:5432, wrk (apt-get install wrk), curl, python3.
# Usage: control-plane/scripts/perf.sh   (DURATION=20s CONNECTIONS=32 to change the load)
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18081}
DB=semalink_perf
BASE=http://127.0.0.1:$PORT
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}

cargo build --release -p semalink-control-plane --bin semalink-api
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:5432/$DB
export DATABASE_URL=postgres://semalink_api@127.0.0.1:5432/$DB
export SEMALINK_API__SERVER__BIND=127.0.0.1:$PORT SEMALINK_API__DATABASE__MAX_CONNECTIONS=16
export SEMALINK_API__SERVER__METRICS_BIND=127.0.0.1:$((PORT + 1))
export SEMALINK_API__RATE_LIMIT__AUTH_PER_MINUTE=100000000 SEMALINK_API__RATE_LIMIT__AUTH_BURST=100000000
export SEMALINK_API__RATE_LIMIT__API_PER_SECOND=100000000 SEMALINK_API__RATE_LIMIT__API_BURST=100000000
export RUST_LOG=${RUST_LOG:-warn}
"${CARGO_TARGET_DIR:-target}/release/semalink-api" > /tmp/semalink-perf-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "$BASE/ready" >/dev/null && break; sleep 0.5; done

body='{"email":"perf@example.com","password":"Tangerine-Orbit-42","first_name":"Per","last_name":"F","organisation_name":"Perf Ltd"}'
token=$(curl -sf "$BASE/v1/auth/signup" -H 'content-type: application/json' -d "$body" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
lua=$(mktemp --suffix=.lua)
cat > "$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"perf@example.com","password":"Tangerine-Orbit-42"}'
LUA
echo "== POST /v1/auth/login (argon2id m=19456 KiB t=2 p=1), 8 connections, $DURATION"
wrk -t2 -c8 -d"$DURATION" --latency -s "$lua" "$BASE/v1/auth/login"
echo "== GET /v1/me with a bearer token, $CONNECTIONS connections, $DURATION"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" "$BASE/v1/me"
echo "== non-2xx check"
curl -s "http://$SEMALINK_API__SERVER__METRICS_BIND/metrics" | grep -E 'http_requests_total\{method="(GET|POST)",route="/v1/(me|auth/login)"'
rm -f "$lua"
