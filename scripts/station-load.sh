#!/usr/bin/env bash
# usage: scripts/station-load.sh [restart] [--stations N] [--heartbeat S] [--authorize-rate R] [--install-rate R]
#        [--duration S] [generator options: --sources N --connect-concurrency N --ramp N/s --quiet S ...]
# Fleet-scale OCPP load (docs/performance.md "Fleet scale"): starts one instance with its PostgreSQL the way
# scripts/cluster.sh does (PNC_CLUSTER_SINGLE=1, under its supervisor loop), registers the stations through the CPO API
# (kept in the cluster's home for the next run), connects them from many loopback source addresses with
# tests/PlugAndCharge.StationLoad, and prints connect times, latencies, the instance's memory and CPU. `restart` kills
# the instance (kill -9) with every station connected and reports how long the fleet takes to be back.
# --heartbeat S sets the stations' heartbeat interval instead of the one BootNotification hands out (300 s); rates are
# calls per second across the fleet; --duration is the measured window after a 5 s warm-up.
# Environment: STATION_LOAD_HOME (default ./.pnc-station-load; delete it for a fresh setup), STATION_LOAD_PORT_BASE
# (default 7380), PNC_CLI as for scripts/cluster.sh (default: the service published as it is deployed, with ReadyToRun
# code, operator guide §1). Loopback only; the generator stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=steady
if [ "${1:-}" = restart ]; then scenario=restart; shift; fi
home=$(mkdir -p "${STATION_LOAD_HOME:-.pnc-station-load}" && cd "${STATION_LOAD_HOME:-.pnc-station-load}" && pwd)
base=${STATION_LOAD_PORT_BASE:-7380}

# One socket per station on each side: the instance and the generator need a descriptor per connection.
ulimit -n "$(ulimit -Hn)"
echo "station-load: open files per process: $(ulimit -n)" >&2

dotnet build tests/PlugAndCharge.StationLoad -c Release -nologo -v quiet -clp:ErrorsOnly >&2
if [ -z "${PNC_CLI:-}" ]; then
  dotnet publish src/PlugAndCharge.Cli -c Release -r linux-x64 --self-contained false -nologo -v quiet -clp:ErrorsOnly >&2
  export PNC_CLI=$PWD/src/PlugAndCharge.Cli/bin/Release/net10.0/linux-x64/publish/pnc
fi

cluster_log=$home/cluster.out
rm -f "$cluster_log" # "cluster ready" of an earlier run must not count
PNC_CLUSTER_HOME=$home PNC_CLUSTER_PORT_BASE=$base PNC_CLUSTER_SINGLE=1 PNC_OUTBOUND_ALLOW=127.0.0.1/32 \
  bash scripts/cluster.sh >"$cluster_log" 2>&1 &
cluster=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$cluster" 2>/dev/null || true
  wait "$cluster" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
until grep -q "cluster ready" "$cluster_log" 2>/dev/null; do
  kill -0 "$cluster" 2>/dev/null || { cat "$cluster_log" >&2; echo "station-load: the cluster did not start" >&2; exit 1; }
  sleep 0.5
done

tests/PlugAndCharge.StationLoad/bin/Release/net10.0/PlugAndCharge.StationLoad --home "$home" --scenario "$scenario" "$@"
