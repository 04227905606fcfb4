#!/usr/bin/env bash
# usage: scripts/faults.sh [OUT_DIR]
# The fault-injection suite (docs/operator-guide.md §7): starts a local cluster of its own (scripts/cluster.sh: two
# instances behind HAProxy, PostgreSQL with a synchronous streaming standby), drives steady load through HAProxy
# (installations over OCPP and the CCP, Authorize, OCSP, CRL downloads, station commands, contract renewals), injects
# the faults one at a time (kill -9 of an instance, pg_ctl restart -m immediate, row locks held by another session, a
# database that stops answering, failover to the standby), checks the invariants after each, and prints the table.
# Ends with one line "faults: N passed, N failed"; exit 0 when every row and the webhook check held.
#
# Environment: PNC_FAULTS (rows, comma-separated: kill-instance,pg-restart,row-locks,partition,failover),
# PNC_FAULTS_SCALE (1: the load of issue 22; scales every default rate), PNC_FAULTS_INSTALL_RATE / _AUTHORIZE_RATE /
# _OCSP_RATE / _CRL_RATE / _COMMAND_RATE / _RENEW_RATE (per second),
# PNC_FAULTS_LOCK_SECONDS (60), PNC_FAULTS_PARTITION_SECONDS (20), PNC_FAULTS_STATIONS (40), PNC_FAULTS_CARS (8),
# PNC_CLI (a built pnc), PNC_FAULTS_KEEP=1 (keep the cluster's folder).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
fail() { echo "faults: $*" >&2; echo "faults: 0 passed, 1 failed"; exit 1; }

out=${1:-$(mktemp -d /tmp/pnc-faults.XXXXXX)}
mkdir -p "$out"
home=$(mktemp -d /tmp/pnc-faults-cluster.XXXXXX)
chmod 755 "$home"

bash scripts/npm-ci.sh "$ROOT/tests/PlugAndCharge.Ocpp.Tests/client" >"$out/npm.log" 2>&1 || fail "npm ci of the ocpp-rpc stations failed: $(tail -n 1 "$out/npm.log")"
if [ -z "${PNC_CLI:-}" ]; then
  dotnet build src/PlugAndCharge.Cli -c Release -nologo -v quiet -clp:ErrorsOnly >&2 || fail "building src/PlugAndCharge.Cli failed."
  PNC_CLI=$ROOT/src/PlugAndCharge.Cli/bin/Release/net10.0/pnc
fi
dotnet build tests/PlugAndCharge.FaultSuite -c Release -nologo -v quiet -clp:ErrorsOnly >&2 || fail "building tests/PlugAndCharge.FaultSuite failed."

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=""
for _ in $(seq 1 50); do
  # Below the kernel's ephemeral range: a port chosen there can be taken by an outgoing connection (an instance's
  # database pool, a health check) between this check and HAProxy's bind, which once failed the suite's start.
  p=$(shuf -i 10000-$(( $(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768) - 10 )) -n 1)
  ok=1; for i in $(seq 0 8); do port_free $((p + i)) || { ok=0; break; }; done
  [ $ok = 1 ] && { base=$p; break; }
done
[ -n "$base" ] || fail "no 9 consecutive free loopback ports."

# The cluster, in the background; its webhooks may call the suite's receiver on loopback.
PNC_CLUSTER_HOME=$home PNC_CLUSTER_PORT_BASE=$base PNC_CLUSTER_STANDBY=1 PNC_CLI=$PNC_CLI PNC_OUTBOUND_ALLOW=127.0.0.1/32 \
  setsid bash scripts/cluster.sh >"$out/cluster.log" 2>&1 &
cluster=$!
stop_cluster() {
  kill -TERM "$cluster" 2>/dev/null && wait "$cluster" 2>/dev/null
  [ "${PNC_FAULTS_KEEP:-0}" = 1 ] || rm -rf "$home"
}
trap stop_cluster EXIT
deadline=$((SECONDS + 180))
until grep -q "^cluster ready" "$out/cluster.log"; do
  kill -0 "$cluster" 2>/dev/null || fail "the cluster did not start: $(grep '^cluster:' "$out/cluster.log" | tail -n 1)"
  [ $SECONDS -lt $deadline ] || fail "the cluster was not ready within 180 s."
  sleep 1
done

dotnet "$ROOT/tests/PlugAndCharge.FaultSuite/bin/Release/net10.0/PlugAndCharge.FaultSuite.dll" faults --cluster-home "$home" --pnc "$PNC_CLI" --out "$out" 2>"$out/suite.log"
status=$?
[ -s "$out/faults.md" ] || { tail -n 5 "$out/suite.log" >&2; fail "the suite ended without its table (see $out/suite.log)."; }
echo "(details: $out)"
exit $status
