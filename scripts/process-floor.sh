#!/usr/bin/env bash
# usage: scripts/process-floor.sh [rounds=2] [window seconds=30] [callers per world=4] [warm-up seconds=60]
# The control for the two-instance throughput figure (operator guide §7): contract installations without HTTP and with
# nothing shared, closed loop, in three arrangements measured in turns (each round in another order), each in a window
# that opens after the warm-up:
#   one-world      one process, one world, twice the callers: one instance;
#   two-worlds     one process, two independent worlds: two instances' work in one runtime;
#   two-processes  two processes, one world each: two instances with nothing coordinating them.
# In memory unless PNC_BENCH_DATABASE is set (a connection string to a PostgreSQL server whose user may create
# databases): then every world persists in a fresh database of its own, with its own pool and group commits.
# two-processes / one-world is what running two instances on these cores costs when nothing coordinates them;
# two-processes / two-worlds is the runtimes' share of it. Prints each window's machine CPU (/proc/stat) as well.
# Needs the cores to itself.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2} window=${2:-30} callers=${3:-4} warm=${4:-60}
dotnet build tests/PlugAndCharge.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >&2
bench=(dotnet tests/PlugAndCharge.Benchmarks/bin/Release/net10.0/PlugAndCharge.Benchmarks.dll install-window "$window")

rate() { awk '{ for (i = 1; i <= NF; i++) if ($(i) == "=") s += $(i + 1) } END { print s + 0 }'; }
# user, nice, system, irq, softirq: work done on the cores (not idle, iowait, or steal: time the host gave to others).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# The machine's busy cores over the window that opens at $1 (run in the background).
machine() {
  sleep $(( $1 - $(date +%s) )); local a; a=$(busy)
  sleep "$window"; awk -v a="$a" -v b="$(busy)" -v w="$window" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz / w }'
}
one-world() { "${bench[@]}" 1 $(( 2 * callers )) "$1"; }
two-worlds() { "${bench[@]}" 2 "$callers" "$1"; }
two-processes() {
  "${bench[@]}" 1 "$callers" "$1" & local a=$!
  "${bench[@]}" 1 "$callers" "$1" & local b=$!
  wait "$a"; wait "$b"
}
declare -A sums=([one-world]=0 [two-worlds]=0 [two-processes]=0)
orders=("one-world two-worlds two-processes" "two-processes two-worlds one-world" "two-worlds one-world two-processes")
for ((r = 0; r < rounds; r++)); do
  for arrangement in ${orders[r % 3]}; do
    at=$(( $(date +%s) + warm ))
    cores=$(mktemp); machine "$at" >"$cores" & sampler=$!
    out=$($arrangement "$at")
    wait "$sampler"
    n=$(echo "$out" | rate)
    sums[$arrangement]=$(( ${sums[$arrangement]} + n ))
    echo "round $((r + 1)), $arrangement: $n /s, machine $(cat "$cores") cores busy, $(awk -v c="$(cat "$cores")" -v n="$n" 'BEGIN { printf "%.3f", c * 1000 / n }') ms of machine CPU per installation"
    echo "$out" | sed 's/^/  /'
    rm -f "$cores"
  done
done
ratio() { awk -v a="${sums[$1]}" -v b="${sums[$2]}" 'BEGIN { printf "%.3f", a / b }'; }
echo "installations/s summed over $rounds rounds: one-world ${sums[one-world]}, two-worlds ${sums[two-worlds]}, two-processes ${sums[two-processes]};" \
  "two-processes / one-world $(ratio two-processes one-world), two-processes / two-worlds $(ratio two-processes two-worlds)"
