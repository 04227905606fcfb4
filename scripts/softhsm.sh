#!/usr/bin/env bash
# Makes SoftHSM2 available for the PKCS#11 key tests (PlugAndCharge.Pki.Pkcs11.Tests) and the key benchmarks.
# Idempotent: does nothing when softhsm2-util is already on PATH. Silent on success; prints apt's output on failure.
# Tokens are not initialized here: the test fixture makes its own token folder and softhsm2.conf inside the build
# output and points SOFTHSM2_CONF at it.
set -euo pipefail

command -v softhsm2-util >/dev/null 2>&1 && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "softhsm.sh: softhsm2-util is missing and this is not root; install the softhsm2 package (apt-get install -y softhsm2)." >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Try without refreshing the package lists first (fast, offline-friendly), then with.
if ! apt-get install -y -q softhsm2 >"$log" 2>&1; then
  if ! { apt-get update -q && apt-get install -y -q softhsm2; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "softhsm.sh: apt-get install softhsm2 failed." >&2
    exit 1
  fi
fi
command -v softhsm2-util >/dev/null 2>&1 || { cat "$log" >&2; echo "softhsm.sh: softhsm2-util still missing after install." >&2; exit 1; }
