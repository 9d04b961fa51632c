#!/usr/bin/env bash
# The project's test command: starts (or installs) the services the tests use, then runs every
# test of the workspace. Any arguments are passed to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
exec cargo test --workspace --locked "$@"
