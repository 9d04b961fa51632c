#!/usr/bin/env bash
# Short-link redirect throughput (docs/performance.md "Short-link redirects"): a throwaway
# database with one campaign, 1,000 short links and their messages, `semalink-api` serving on
# 127.0.0.1:$PORT with every worker but the click writer off, then wrk against one code and
# against all 1,000 (a Lua script cycling the paths).
#
#   PG=postgres://postgres@127.0.0.1:5442 BIN=target/debug/semalink-api scripts/bench-redirect.sh
set -euo pipefail
PG=${PG:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-target/release/semalink-api}
PORT=${PORT:-18080}
DB=links_bench
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
export DATABASE_OWNER_URL="$PG/$DB"
export DATABASE_URL="${PG/postgres@/semalink_api@}/$DB"
export SEMALINK_API__SERVER__BIND="127.0.0.1:$PORT"
export SEMALINK_API__SERVER__METRICS_BIND="127.0.0.1:$((PORT + 1))"
export SEMALINK_API__DATABASE__MAX_CONNECTIONS=10
for w in EMAIL_OUTBOX TRASH_PURGE MESSAGE_PUBLISHER IDEMPOTENCY_PURGE CAMPAIGN_DISPATCHER \
         WEBHOOK_SENDER STATUS_CONSUMER INBOUND_CONSUMER; do
    export "SEMALINK_API__WORKERS__$w=false"
done
export RUST_LOG=warn
"$BIN" migrate
psql "$PG/$DB" -q <<'SQL'
INSERT INTO accounts (id, name, billing_account_id)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'Bench', '00000000-0000-0000-0000-0000000000a1');
INSERT INTO campaigns (id, account_id, name, message)
VALUES ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-0000000000a1', 'Bench',
        'Sale {link:https://shop.example/sale}');
BEGIN;
INSERT INTO short_links (code, account_id, campaign_id, message_id, position, url)
SELECT 'B' || lpad(n::text, 6, '0'), '00000000-0000-0000-0000-0000000000a1',
       '00000000-0000-0000-0000-0000000000c1', md5('m' || n)::uuid, 0,
       'https://shop.example/sale?n=' || n
FROM generate_series(1, 1000) AS n;
INSERT INTO messages (id, account_id, campaign_id, sender, destination, country, mno_id, body,
                      encoding, parts, unit_price, cost, status, sent_at)
SELECT md5('m' || n)::uuid, '00000000-0000-0000-0000-0000000000a1',
       '00000000-0000-0000-0000-0000000000c1', 'Bench', '+2547' || lpad(n::text, 8, '0'), 'KE',
       'ke-safaricom', 'x', 'gsm7', 1, 0.8, 0.8, 'sent', now() - interval '1 hour'
FROM generate_series(1, 1000) AS n;
COMMIT;
SQL
"$BIN" serve &
API=$!
trap 'kill $API' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
curl -si "http://127.0.0.1:$PORT/B000001" | head -3
cat > /tmp/bench-redirect.lua <<'LUA'
local n = 0
request = function()
  n = n % 1000 + 1
  return wrk.format("GET", string.format("/B%06d", n))
end
LUA
# The server's own view: the redirect's latency histogram (cumulative over the runs) and
# the clicks queued, dropped and written.
metrics() {
    curl -s "http://127.0.0.1:$((PORT + 1))/metrics" | grep -E 'link_clicks_total\{|route="/\{code\}"' | grep -E -v 'le="(0.025|0.05|0.1|0.25|0.5|1|2.5|5)"'
}
UA="Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/119.0 Mobile Safari/537.36"
echo "== one code"
wrk -t2 -c64 -d20s --latency -H "User-Agent: $UA" "http://127.0.0.1:$PORT/B000001"
metrics
echo "== 1,000 codes"
wrk -t2 -c64 -d20s --latency -H "User-Agent: $UA" -s /tmp/bench-redirect.lua "http://127.0.0.1:$PORT"
sleep 1
metrics
psql "$PG/$DB" -Atc "SELECT count(*) AS clicks_written, count(*) FILTER (WHERE bot IS NULL) AS people FROM link_clicks"
