#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with schemathesis: starts
# semalink-api on a fresh database, signs up a user, and runs every operation both anonymously
# with that user's token and with a staff owner's token. Passes when no response is a 5xx or
# violates the document.
# Needs: PostgreSQL on 127.0.0.1:$PGPORT (default 5432, scripts/services.sh), `pip install
# schemathesis`, curl.
# Usage: control-plane/scripts/schemathesis.sh [extra schemathesis args]
# PASSES="anonymous owner staff" (the default; add "agent" for the /v1/agent routes as an
# agent's owner) chooses the passes; PGPORT, PORT the ports.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-18080}
PGPORT=${PGPORT:-5432}
DB=semalink_schemathesis
BASE=http://127.0.0.1:$PORT
PROFILE=${PROFILE:-release}
flag=(); [ "$PROFILE" = release ] && flag=(--release)

# BIN: an already built semalink-api (skips the build).
bin="${BIN:-${CARGO_TARGET_DIR:-target}/$PROFILE/semalink-api}"
[ -n "${BIN:-}" ] || cargo build "${flag[@]}" -p semalink-control-plane --bin semalink-api
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null

export DATABASE_OWNER_URL=postgres://postgres@127.0.0.1:$PGPORT/$DB
export DATABASE_URL=postgres://semalink_api@127.0.0.1:$PGPORT/$DB
export SEMALINK_API__SERVER__BIND=127.0.0.1:$PORT
export SEMALINK_API__RATE_LIMIT__AUTH_PER_MINUTE=1000000 SEMALINK_API__RATE_LIMIT__AUTH_BURST=1000000
export SEMALINK_API__RATE_LIMIT__API_PER_SECOND=1000000 SEMALINK_API__RATE_LIMIT__API_BURST=1000000
# Both token kinds outlive the run (a staff token's default 15 minutes ended before the staff
# pass began, which then saw nothing but 401s).
export SEMALINK_API__AUTH__ACCESS_TOKEN_TTL_SECS=7200 SEMALINK_API__ADMIN__ACCESS_TOKEN_TTL_SECS=7200
export RUST_LOG=${RUST_LOG:-warn}
"$bin" > /tmp/semalink-schemathesis-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "$BASE/ready" >/dev/null && break; sleep 0.5; done

token=$(curl -sf "$BASE/v1/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"fuzz@example.com","password":"Tangerine-Orbit-42","first_name":"Fuzz","last_name":"Er","organisation_name":"Fuzz Ltd"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')

# A staff owner (seeded, then past the forced password change).
SEMALINK_SEED_PASSWORD=Seed-Password-123 "$bin" seed-staff --email root@semalink.africa --name Root >/dev/null
staff_login() {
  curl -sf "$BASE/v1/admin/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"root@semalink.africa\",\"password\":\"$1\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
first=$(staff_login Seed-Password-123)
curl -sf "$BASE/v1/admin/auth/password" -H "Authorization: Bearer $first" -H 'content-type: application/json' \
  -d '{"current_password":"Seed-Password-123","new_password":"Owner-Chosen-456"}' >/dev/null
staff=$(staff_login Owner-Chosen-456)

# Logging out, or replaying a refresh token the run picked up (reuse revokes the family), ends
# the token's session at once and would leave the rest of a signed-in pass testing only 401s:
# the signed-in passes skip logout and refresh (the anonymous pass covers both).
keep=(--exclude-path-regex 'auth/(logout|refresh)$')

# One worker: schemathesis' generator trips over a CPython AST bug when run in threads.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
status=0
passes=" ${PASSES:-anonymous owner staff} "
if [[ $passes == *" anonymous "* ]]; then
  echo "== anonymous"
  schemathesis run "$BASE/openapi.json" --checks "$checks" --max-examples "${MAX_EXAMPLES:-30}" --workers 1 "$@" || status=1
fi
if [[ $passes == *" owner "* ]]; then
  echo "== as a signed-in owner"
  schemathesis run "$BASE/openapi.json" -H "Authorization: Bearer $token" --checks "$checks" "${keep[@]}" \
    --max-examples "${MAX_EXAMPLES:-30}" --workers 1 "$@" || status=1
fi
if [[ $passes == *" agent "* ]]; then
  echo "== as an agent's owner (the /v1/agent routes)"
  # Agents are accounts of type agent (set by staff in the database, as the tests do).
  agent=$(curl -sf "$BASE/v1/auth/signup" -H 'content-type: application/json' \
    -d '{"email":"agent-fuzz@example.com","password":"Tangerine-Orbit-42","first_name":"Agent","last_name":"Fuzz","organisation_name":"Agent Fuzz Ltd"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
  psql "$DATABASE_OWNER_URL" -qc "UPDATE users SET email_verified_at = now()
    WHERE email = 'agent-fuzz@example.com'" -c "UPDATE accounts SET type = 'agent', status = 'active'
    WHERE id = (SELECT m.account_id FROM account_members m JOIN users u ON u.id = m.user_id
                WHERE u.email = 'agent-fuzz@example.com')" >/dev/null
  schemathesis run "$BASE/openapi.json" -H "Authorization: Bearer $agent" --checks "$checks" "${keep[@]}" \
    --include-path-regex '^/v1/agent' --max-examples "${MAX_EXAMPLES:-30}" --workers 1 "$@" || status=1
fi
if [[ $passes == *" staff "* ]]; then
  echo "== as a staff owner"
  # The staff token must still be live: a pass that only sees 401s tests nothing.
  curl -sf "$BASE/v1/admin/me" -H "Authorization: Bearer $staff" >/dev/null \
    || { echo "the staff token is refused"; exit 1; }
  schemathesis run "$BASE/openapi.json" -H "Authorization: Bearer $staff" --checks "$checks" "${keep[@]}" \
    --max-examples "${MAX_EXAMPLES:-30}" --workers 1 "$@" || status=1
fi
exit $status
