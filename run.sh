#!/usr/bin/env bash
# Brings PlugAndCharge up for a newcomer: `pnc up` starts the managed PostgreSQL (when PNC_DATABASE is unset), applies
# migrations, creates the development PKI and an admin credential and serves; then the roaming sample plays a Plug &
# Charge session end to end against it. Ctrl-C (or SIGTERM) stops both, and the service stops the database it started.
# Arguments go to `pnc up` (e.g. --urls / --https-urls; the sample is told the same URLs).
set -euo pipefail
cd "$(dirname "$0")"
# The sample charger is a real OCPP client from npm (ocpp-rpc, pinned by its lock file); installed once.
bash scripts/npm-ci.sh samples/roaming/charger
dotnet build src/PlugAndCharge.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build samples/roaming -c Release -nologo -v quiet -clp:ErrorsOnly

http=http://127.0.0.1:5080 https=https://127.0.0.1:5443
args=("$@")
for ((i = 0; i < ${#args[@]} - 1; i++)); do
  case "${args[i]}" in
    --urls) http=${args[i+1]%%;*} ;;
    --https-urls) https=${args[i+1]%%;*} ;;
  esac
done
http=${http/0.0.0.0/127.0.0.1} https=${https/0.0.0.0/127.0.0.1}

src/PlugAndCharge.Cli/bin/Release/net10.0/pnc up "$@" &
service=$!
sample=
stop() {
  trap - INT TERM EXIT
  [[ -n $sample ]] && kill -TERM "$sample" 2>/dev/null || true
  kill -TERM "$service" 2>/dev/null || true
  wait "$service" 2>/dev/null || true
}
trap stop INT TERM EXIT

# Ready means migrations applied, the development PKI and the admin credential written, and both listeners up.
for _ in $(seq 1 240); do
  kill -0 "$service" 2>/dev/null || { echo "run.sh: pnc up exited; its output above says why" >&2; exit 1; }
  curl -fsS -o /dev/null "$http/health/ready" 2>/dev/null && break
  sleep 0.5
done
samples/roaming/bin/Release/net10.0/PlugAndCharge.Samples.Roaming --http "$http" --https "$https" \
  --credentials "${PNC_HOME:-.pnc}/participants" &
sample=$!
wait "$sample" || true
sample=
# The session is over (or the sample stopped): keep serving until Ctrl-C.
wait "$service"
