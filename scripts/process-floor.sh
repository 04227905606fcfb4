#!/usr/bin/env bash
# usage: scripts/process-floor.sh [rounds=2] [window seconds=30] [callers per world=4] [warm-up seconds=60]
# The control for the two-instance throughput figure (operator guide §7): contract installations in memory, no database
# and nothing shared, as one process running two independent worlds, then as two processes running one world each,
# measured in the same wall-clock window after a warm-up; rounds alternate the order. What two processes lose here is
# what two .NET runtimes on the same cores cost when nothing coordinates them. Needs the cores to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2} window=${2:-30} callers=${3:-4} warm=${4:-60}
dotnet build tests/PlugAndCharge.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >&2
bench=(dotnet tests/PlugAndCharge.Benchmarks/bin/Release/net10.0/PlugAndCharge.Benchmarks.dll install-window "$window")
unset PNC_BENCH_DATABASE

rate() { awk '{ for (i = 1; i <= NF; i++) if ($(i) == "=") s += $(i + 1) } END { print s + 0 }'; }
one() { "${bench[@]}" 2 "$callers" $(( $(date +%s) + warm )); }
two() {
  local at=$(( $(date +%s) + warm ))
  "${bench[@]}" 1 "$callers" "$at" & local a=$!
  "${bench[@]}" 1 "$callers" "$at" & local b=$!
  wait "$a"; wait "$b"
}
ones=0 twos=0
for ((r = 0; r < rounds; r++)); do
  for arrangement in $( ((r % 2 == 0)) && echo "one two" || echo "two one"); do
    out=$($arrangement)
    echo "round $((r + 1)), $arrangement process(es):"; echo "$out" | sed 's/^/  /'
    if [ "$arrangement" = one ]; then ones=$(( ones + $(echo "$out" | rate) )); else twos=$(( twos + $(echo "$out" | rate) )); fi
  done
done
echo "installations/s summed over $rounds rounds: one process $ones, two processes $twos; ratio two / one $(awk -v a="$twos" -v b="$ones" 'BEGIN { printf "%.3f", a / b }')"
