#!/usr/bin/env bash
# OCSP load test (issue 4): our responder against `openssl ocsp -index ... -port` serving the same certificates,
# both driven by one load generator, ApacheBench, in the same run: new connections (no -k) and kept-alive (-k).
# Prints requests/s, p99 and failures per run. Goals: >= 2x openssl on new connections; >= 30,000/s with
# p99 < 5 ms kept-alive.
#
#   scripts/bench-ocsp.sh                    # defaults below; env overrides: N, C, LEAVES, PORT_PNC, PORT_OSSL
#   PNC_DATABASE='Host=...' scripts/bench-ocsp.sh   # use that (empty) database instead of a managed local cluster
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-100000}          # requests per ab run
C=${C:-16}              # concurrent connections (openssl listens with a backlog of 32: more stalls its SYNs)
LEAVES=${LEAVES:-20}    # SECC leaves issued (the index openssl serves); requests ask for the first
PORT_PNC=${PORT_PNC:-5480}
PORT_OSSL=${PORT_OSSL:-5481}
CA=iso2-cpo-subca2

# (1) ApacheBench, from Debian's apache2-utils.
if ! command -v ab >/dev/null; then
  echo "installing apache2-utils (ab) ..."
  bash "$(dirname "$0")/apt-install.sh" apache2-utils
fi

WORK=$(mktemp -d /tmp/pnc-bench-ocsp.XXXXXX)
chmod 755 "$WORK" # the managed PostgreSQL runs as the postgres user and must reach its folder
export PNC_HOME=$WORK/pnc
export PNC_KEY_PASSPHRASE="bench-$(openssl rand -hex 12)"
export PNC_PUBLIC_URL=http://127.0.0.1:$PORT_PNC
PIDS=()
cleanup() {
  # pnc stops on SIGINT (Ctrl-C); anything still there after 10 s is killed.
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.2
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -z "${PNC_DATABASE:-}" ] && [ -f "$PNC_HOME/postgres/data/PG_VERSION" ]; then
    runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl stop -s -m fast -D "$PNC_HOME/postgres/data" >/dev/null 2>&1 \
      || /usr/lib/postgresql/*/bin/pg_ctl stop -s -m fast -D "$PNC_HOME/postgres/data" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building pnc (Release) ..."
dotnet build -c Release "$ROOT/src/PlugAndCharge.Cli/PlugAndCharge.Cli.csproj" -o "$WORK/bin" -v q -nologo >/dev/null
PNC="$WORK/bin/pnc"
# The method's ceiling: a raw-socket server with a canned answer (no HTTP stack, no OCSP).
dotnet build -c Release "$ROOT/tests/PlugAndCharge.Benchmarks/PlugAndCharge.Benchmarks.csproj" -o "$WORK/bench" -v q -nologo >/dev/null
PORT_RAW=${PORT_RAW:-5490}

# (2) The development PKI and some SECC leaves under the CPO Sub-CA 2, each with this server's OCSP URL in its AIA.
echo "creating the development PKI and $LEAVES leaves ..."
"$PNC" pki init >/dev/null
cd "$WORK"
: > index.txt
for i in $(seq 1 "$LEAVES"); do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "leaf$i.key" 2>/dev/null
  openssl req -new -key "leaf$i.key" -subj "/CN=DE*PNC*E$(printf '%06d' "$i")/O=Bench CPO/C=DE/DC=CPO" -out "leaf$i.csr"
  "$PNC" cert issue --profile iso2/secc --issuer "$CA" --csr "leaf$i.csr" > "chain$i.pem" 2>/dev/null
  openssl x509 -in "chain$i.pem" -out "leaf$i.pem"
  # openssl's index: status, expiry (YYMMDDHHMMSSZ), revocation (empty), serial (hex), file, subject.
  serial=$(openssl x509 -in "leaf$i.pem" -noout -serial | cut -d= -f2)
  expiry=$(date -u -d "$(openssl x509 -in "leaf$i.pem" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
  subject=$(openssl x509 -in "leaf$i.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
  printf 'V\t%s\t\t%s\tunknown\t%s\n' "$expiry" "$serial" "$subject" >> index.txt
done
# The issuing CA's certificate (second in the chain) and its key, which openssl's responder signs with directly.
awk '/BEGIN CERT/{n++} n==2' chain1.pem > ca.pem
CA_KEY_FILE=$(ls "$PNC_HOME"/keys/$CA-*.p8 | grep -v -- '-ocsp-' | head -1)
openssl pkey -in "$CA_KEY_FILE" -passin env:PNC_KEY_PASSPHRASE -out ca.key
openssl ocsp -issuer ca.pem -cert leaf1.pem -no_nonce -reqout req.der

# (3) Both responders on the same certificates.
# INLINE_SOCKETS=1 (default) runs socket completions on the epoll threads (System.Net.Sockets and Kestrel read
# DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS): no thread-pool hop per read, safe here as no handler blocks.
if [ "${INLINE_SOCKETS:-1}" = 1 ]; then export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1; fi
"$PNC" serve --urls "http://127.0.0.1:$PORT_PNC" > pnc.log 2>&1 &
unset DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS
PIDS+=($!)
# SIGPIPE ignored: ab closes its connections at the end of a run and openssl would die writing to one.
(trap '' PIPE; exec openssl ocsp -index index.txt -port "$PORT_OSSL" -rsigner ca.pem -rkey ca.key -CA ca.pem -ndays 1 > openssl.log 2>&1) &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT_PNC/health/live" >/dev/null 2>&1 && break
  sleep 0.2
done
PNC_URL="http://127.0.0.1:$PORT_PNC/ocsp/$CA"
OSSL_URL="http://127.0.0.1:$PORT_OSSL/"
for url in "$PNC_URL" "$OSSL_URL"; do
  out=$(openssl ocsp -issuer ca.pem -cert leaf1.pem -url "$url" -CAfile ca.pem -partial_chain -no_nonce 2>&1) || true
  echo "$out" | grep -q "leaf1.pem: good" || { echo "responder at $url does not answer good: $out"; exit 1; }
done

# (4) ab against both, without and with keep-alive; a short warm-up each (JIT, connection pools).
run() { # name url keepalive
  local name=$1 url=$2 k=$3 out
  ab -q -r -s 60 -n 20000 -c "$C" $k -p req.der -T application/ocsp-request "$url" >/dev/null 2>&1 || true
  out=$(ab -q -r -s 60 -n "$N" -c "$C" $k -p req.der -T application/ocsp-request "$url" 2>&1) || { echo "$name: ab failed: $out" | tail -3; return 0; }
  local rps p99 p50 failed non2xx
  rps=$(echo "$out" | awk '/^Requests per second/{print $4}')
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  # ab counts a response whose length differs from the first as failed ("Length"): openssl signs each answer and
  # DER ECDSA signatures vary by a byte or two, so those are not errors. Connect/receive/exception failures are.
  failed=$(echo "$out" | awk '/^Failed requests/{f=$3} /\(Connect:/{gsub(/[(),]/," "); print $2+$4+$8; exit} END{if(f=="")print 0}')
  non2xx=$(echo "$out" | awk '/^Non-2xx responses/{print $3}')
  printf '%-34s %12s %8s %8s %8s %8s\n' "$name" "$rps" "${p50:-?}" "${p99:-?}" "${failed:-0}" "${non2xx:-0}"
  echo "$name $rps $p99" >> results.txt
}
echo
echo "ab -n $N -c $C -p req.der -T application/ocsp-request (one CertID, no nonce), $(nproc) cores, load average $(cut -d" " -f1 /proc/loadavg) before"
printf '%-34s %12s %8s %8s %8s %8s\n' "run" "req/s" "p50 ms" "p99 ms" "errors" "non-2xx"
: > results.txt
"$WORK/bench/PlugAndCharge.Benchmarks" canned-http "$PORT_RAW" 600 > canned.log 2>&1 &
PIDS+=($!)
sleep 1
run "raw sockets (ceiling), new conn." "http://127.0.0.1:$PORT_RAW/" ""
run "openssl ocsp, new connections" "$OSSL_URL" ""
run "pnc, new connections" "$PNC_URL" ""
# openssl's responder serves one connection at a time, so kept-alive connections starve each other (ab times out):
# it is measured on new connections only, as the issue's goals are.
run "pnc, keep-alive (-k)" "$PNC_URL" "-k"

# (5) The goals.
awk '
  /^raw sockets/ {r=$(NF-1)} /^openssl ocsp, new/ {o=$(NF-1)} /^pnc, new/ {p=$(NF-1)} /^pnc, keep/ {k=$(NF-1); k99=$NF}
  END {
    printf "\nnew connections: pnc / openssl = %.2fx (goal >= 2x); the method allows at most %.2fx here (raw sockets / openssl)\n", p/o, r/o
    printf "keep-alive: %d req/s, p99 %s ms (goal >= 30000 req/s, p99 < 5 ms)\n", k, k99
  }' results.txt
