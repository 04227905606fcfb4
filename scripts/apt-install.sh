#!/usr/bin/env bash
# usage: scripts/apt-install.sh PACKAGE...   Installs the Debian packages that are not installed yet, and survives a
# busy machine: it waits for another apt-get or dpkg to finish instead of failing on their lock, refreshes the package
# lists once when a package is unknown, and says in one line what is missing when the package source cannot be reached.
# Silent on success. Exit 0 when every package is installed, 1 otherwise.
set -uo pipefail

missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "apt-install: missing ${missing[*]}; not root, so install them yourself: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# How long to wait for another package manager to let go of its locks (dpkg's frontend lock, the lists lock).
wait_s=${PNC_APT_LOCK_WAIT:-900}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# apt-get with the dpkg lock wait of apt >= 1.9.11; the lists lock of 'apt-get update' has no such option, so a run
# that reports any held lock is retried until the same deadline.
apt_run() {
  local deadline=$((SECONDS + wait_s))
  while :; do
    apt-get -q -y -o DPkg::Lock::Timeout="$wait_s" "$@" >"$log" 2>&1 && return 0
    if grep -qE "Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock directory|is another process using it" "$log" \
       && [ $SECONDS -lt $deadline ]; then
      sleep 3
      continue
    fi
    return 1
  done
}

# The lists may be current enough: try the install first, and refresh them only when a package is unknown or a
# download of the old lists' versions fails.
if apt_run install "${missing[@]}"; then exit 0; fi
if ! grep -qE "Unable to locate package|has no installation candidate|Failed to fetch|404" "$log"; then
  echo "apt-install: apt-get install ${missing[*]} failed: $(grep -E '^(E|W):' "$log" | head -n 1)" >&2
  exit 1
fi
if ! apt_run update; then
  echo "apt-install: cannot reach the package source to install ${missing[*]}: $(grep -E '^(E|W):|^Err' "$log" | head -n 1)" >&2
  exit 1
fi
if grep -qE "^(Err|W: Failed to fetch)" "$log"; then
  unreachable=$(grep -E "^(Err|W: Failed to fetch)" "$log" | head -n 1)
fi
if apt_run install "${missing[@]}"; then exit 0; fi
if [ -n "${unreachable:-}" ]; then
  echo "apt-install: cannot reach the package source to install ${missing[*]}: $unreachable" >&2
else
  echo "apt-install: apt-get install ${missing[*]} failed: $(grep -E '^(E|W):' "$log" | head -n 1)" >&2
fi
exit 1
