#!/usr/bin/env bash
# Installs what the OCPP interop tests need, idempotently: Node.js + npm (Debian packages) and ocpp-rpc from the lock file.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
fi
if [ ! -d node_modules/ocpp-rpc ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
