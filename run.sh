#!/usr/bin/env bash
# Brings PlugAndCharge up for a newcomer: managed PostgreSQL (when PNC_DATABASE is unset), migrations, the development
# PKI, the service, then a Plug & Charge roaming session played end to end against it; serves until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
# The sample charger is a real OCPP client from npm (ocpp-rpc, pinned by its lock file); installed once.
bash scripts/npm-ci.sh samples/roaming/charger
dotnet build src/PlugAndCharge.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
# exec the tool itself (not `dotnet run`), so Ctrl-C and SIGTERM reach it and it stops the service and its database.
exec src/PlugAndCharge.Cli/bin/Release/net10.0/pnc up "$@"
