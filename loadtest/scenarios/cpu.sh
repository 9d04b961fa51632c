#!/usr/bin/env bash
# CPU seconds (utime + stime from /proc/<pid>/stat) of the processes a command starts, per
# group, for the "CPU per SMS" figures in docs/performance.md:
#
#   loadtest/scenarios/cpu.sh 'beam.smp' 'semalink-engine' 'redis-server' -- \
#       loadtest/scenarios/fault-run.sh --no-faults --engines 1 -n 100000
#
# Every 0.5 s each running process whose command line matches a pattern is sampled; a
# process's last sample counts (a process that exits loses at most 0.5 s). Only processes that
# appear after the start are counted, so services already running (the shared broker) are not.
# Prints `<pattern> <cpu seconds>` per pattern on stderr when the command ends.
set -euo pipefail
patterns=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do patterns+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
tck=$(getconf CLK_TCK)
declare -A before last group
for p in /proc/[0-9]*; do before[${p#/proc/}]=1; done
"$@" &
cmd=$!
# A pid's group is decided once (its command line read once), its stat read without forking.
sample() {
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ -n "${before[$pid]:-}" ] && continue
    if [ -z "${group[$pid]:-}" ]; then
      line=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
      group[$pid]=-
      for pat in "${patterns[@]}"; do
        if [[ "$line" == *"$pat"* ]]; then group[$pid]=$pat; break; fi
      done
    fi
    [ "${group[$pid]}" = - ] && continue
    read -r stat < "$p/stat" 2>/dev/null || continue
    # Fields after the command name (which may hold spaces): utime is field 14, stime 15.
    rest=${stat##*) }
    read -r -a f <<< "$rest"
    last[$pid]=$(( f[11] + f[12] ))
  done
}
while kill -0 "$cmd" 2>/dev/null; do sample; sleep 0.5; done
wait "$cmd" && rc=0 || rc=$?
for pat in "${patterns[@]}"; do
  total=0
  for pid in "${!group[@]}"; do
    [ "${group[$pid]}" = "$pat" ] && total=$(( total + ${last[$pid]:-0} ))
  done
  awk -v t="$total" -v k="$tck" -v p="$pat" 'BEGIN { printf "cpu %s %.2f s\n", p, t / k }' >&2
done
exit "$rc"
