#!/usr/bin/env bash
# Brings PlugAndCharge up for a newcomer: managed PostgreSQL (when PNC_DATABASE is unset), migrations, the
# development PKI, a sample contract certificate issued, verified and revoked, then the service until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
exec dotnet run --project src/PlugAndCharge.Cli -c Release -- up "$@"
