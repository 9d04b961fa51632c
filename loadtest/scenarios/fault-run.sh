#!/usr/bin/env bash
# The fault run of issue 5, repeatable: release builds of the engine and the load generator,
# then `loadgen fault`, which starts a private RabbitMQ node and a private redis-server (own
# ports and data in the run directory: the shared broker and Redis are never touched), the
# simulator and the engine processes, publishes the messages through RabbitMQ and injects the
# faults (engine SIGKILL + restart twice, upstream connections dropped, broker restarted once).
#
#   loadtest/scenarios/fault-run.sh                       # 100,000 messages, 2 engines, faults
#   loadtest/scenarios/fault-run.sh --no-faults --engines 1   # throughput, one engine
#   loadtest/scenarios/fault-run.sh -n 20000 --report /tmp/fault.json
#
# Every `loadgen fault` flag passes through (`--help` lists them). Needs rabbitmq-server,
# redis-server and a Rust toolchain; honours CARGO_TARGET_DIR. Exit status 2 when a message
# was lost, a receipt stayed unmatched or the upstream saw more duplicates than the windows
# in flight at the faults could explain.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p semalink-engine -p semalink-loadtest --bins
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/loadgen" fault --engine-bin "$target/release/semalink-engine" "$@"
