#!/usr/bin/env bash
# The pipeline fault run of issue 15: `pipeline.sh` in RabbitMQ mode (two engine processes)
# with faults, each when the campaign reaches its point: the control plane SIGKILLed while it
# dispatches and publishes (20 % of the messages written) and restarted 2 s later, engine 0
# SIGKILLed and restarted (25 % final), the control plane SIGKILLed again while its status
# consumer applies (45 % final), the broker stopped and booted again on its data (65 % final).
# Then the same checks: every message exactly one final state, balance = sum(ledger), none
# charged or refunded twice, none lost. Results: docs/fault-run.md.
#
#   loadtest/scenarios/pipeline-fault-run.sh                      # 100,000 recipients
#   loadtest/scenarios/pipeline-fault-run.sh -n 10000 --report /tmp/pfault.json
set -euo pipefail
exec "$(dirname "$0")/pipeline.sh" --mode amqp --faults "$@"
