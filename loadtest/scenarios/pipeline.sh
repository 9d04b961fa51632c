#!/usr/bin/env bash
# The whole pipeline of issue 15, timed and checked: release builds, then `semalink pipeline`,
# which creates a fresh database `pipeline_<tag>` on the PostgreSQL server DATABASE_URL names
# (an admin login; the services log in as semalink_api), seeds the first staff member (as
# `semalink-api seed-staff`) and drives a campaign through the PUBLIC API: staff login +
# password change, signup + email verification, sender ID registered and approved by staff,
# platform rates, a staff top-up, the contacts imported as CSV into a new list, the campaign
# created, submitted and sent. It follows the campaign until it is `completed` and checks
# the end: every message final with one final step, balance = sum(ledger), nothing reserved,
# balance = top-up - delivered cost, every message settled exactly once.
#
#   loadtest/scenarios/pipeline.sh                    # RabbitMQ + Redis, 2 engine processes, 100,000
#   loadtest/scenarios/pipeline.sh --mode embedded    # one `semalink up`: the in-process bus
#   loadtest/scenarios/pipeline.sh -n 10000 --engines 1 --report /tmp/pipeline.json
#
# RabbitMQ mode: a private RabbitMQ node and a private redis-server (own ports and data in the
# run directory, like the fault run), the simulator in the `semalink pipeline` process, the
# engines as `semalink-engine` processes, the control plane as `semalink up --only api --amqp`.
# Every `semalink pipeline` flag passes through (`--help`). Exit status 2 when a check failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p semalink -p semalink-engine
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/semalink" pipeline --engine-bin "$target/release/semalink-engine" "$@"
