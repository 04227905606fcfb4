#!/usr/bin/env bash
# Makes SoftHSM2 available for the PKCS#11 key tests (PlugAndCharge.Pki.Pkcs11.Tests) and the key benchmarks.
# Idempotent: does nothing when softhsm2-util is already on PATH. Silent on success; says in one line what failed.
# Tokens are not initialized here: the test fixture makes its own token folder and softhsm2.conf inside the build
# output and points SOFTHSM2_CONF at it.
set -euo pipefail

command -v softhsm2-util >/dev/null 2>&1 && exit 0
bash "$(dirname "$0")/apt-install.sh" softhsm2
command -v softhsm2-util >/dev/null 2>&1 || { echo "softhsm.sh: softhsm2-util still missing after installing softhsm2." >&2; exit 1; }
