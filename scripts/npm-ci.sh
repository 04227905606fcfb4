#!/usr/bin/env bash
# usage: scripts/npm-ci.sh DIR...   Installs the npm clients of each DIR from its lock file (npm ci), once; Node.js and
# npm from Debian if missing. Used for the OCPP test stations and the roaming sample's charger (both ocpp-rpc).
set -euo pipefail
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  bash "$(dirname "$0")/apt-install.sh" nodejs npm
fi
for dir in "$@"; do
  if [ ! -d "$dir/node_modules/ocpp-rpc" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
