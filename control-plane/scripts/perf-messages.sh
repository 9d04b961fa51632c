#!/usr/bin/env bash
# Measures POST /v1/messages on a release semalink-api with wrk (issue 14's targets: one
# recipient ≥ 3,000 requests/s with p99 < 25 ms; a 10,000-recipient request answered in < 1 s).
# A fresh database on PG (owner URL base, default postgres://postgres@127.0.0.1:5432); one
# organisation made able to send by SQL (approved default sender ID, the KE platform rate, a
# large balance); the owner's bearer token; no [amqp], so the publisher leaves the outbox alone
# (the send path alone is measured). Needs wrk (apt-get install wrk), curl, python3, psql.
# Usage: control-plane/scripts/perf-messages.sh   (DURATION=20s CONNECTIONS=32 PG=… PORT=…)
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18461}
DB=semalink_msgperf
BASE=http://127.0.0.1:$PORT
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/semalink-api}

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
export DATABASE_OWNER_URL=$PG/$DB
export DATABASE_URL=${PG/postgres@/semalink_api@}/$DB
export SEMALINK_API__SERVER__BIND=127.0.0.1:$PORT SEMALINK_API__DATABASE__MAX_CONNECTIONS=${POOL:-16}
export SEMALINK_API__SERVER__METRICS_BIND=127.0.0.1:$((PORT + 1))
export SEMALINK_API__RATE_LIMIT__AUTH_PER_MINUTE=100000000 SEMALINK_API__RATE_LIMIT__AUTH_BURST=100000000
export SEMALINK_API__RATE_LIMIT__API_PER_SECOND=100000000 SEMALINK_API__RATE_LIMIT__API_BURST=100000000
export RUST_LOG=${RUST_LOG:-warn}
"$BIN" > /tmp/semalink-msgperf-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "$BASE/ready" >/dev/null && break; sleep 0.5; done

body='{"email":"perf@example.com","password":"Tangerine-Orbit-42","first_name":"Per","last_name":"F","organisation_name":"Perf Ltd"}'
token=$(curl -sf "$BASE/v1/auth/signup" -H 'content-type: application/json' -d "$body" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
psql "$DATABASE_OWNER_URL" -q <<'SQL'
INSERT INTO sender_ids (id, account_id, name, kind, country, traffic_type, use_case, status, is_default)
SELECT gen_random_uuid(), id, 'PerfCo', 'alphanumeric', 'KE', 'transactional', 'benchmark sends', 'approved', true
FROM accounts;
INSERT INTO pricing_rates (id, scope, country, rate, effective_from)
VALUES (gen_random_uuid(), 'platform', 'KE', 0.80, now() - interval '1 day');
UPDATE credits SET balance = 9000000000;
SQL

lua=$(mktemp --suffix=.lua)
cat > "$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"to":["+254712345678"],"text":"Your code is 123456"}'
LUA
echo "== POST /v1/messages, one recipient, $CONNECTIONS connections, $DURATION"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $token" -s "$lua" "$BASE/v1/messages"
echo "== non-2xx check"
curl -s "http://$SEMALINK_API__SERVER__METRICS_BIND/metrics" | grep -E 'http_requests_total\{method="POST",route="/v1/messages"' || true

big=$(mktemp --suffix=.json)
python3 -c 'import json; print(json.dumps({"to": ["+2547%08d" % (20000000 + i) for i in range(10000)], "text": "Habari! Offers this week."}))' > "$big"
echo "== POST /v1/messages, 10,000 recipients (three requests, one after the other)"
for _ in 1 2 3; do
  curl -s -o /dev/null -w '%{http_code} %{time_total} s\n' "$BASE/v1/messages" \
    -H "Authorization: Bearer $token" -H 'content-type: application/json' --data-binary "@$big"
done
psql "$DATABASE_OWNER_URL" -Atc "SELECT count(*) || ' messages written' FROM messages"
rm -f "$lua" "$big"
