#!/usr/bin/env bash
# usage: scripts/cluster.sh      A local cluster in one command: one PostgreSQL, two `pnc serve` instances and HAProxy
# (Debian's package) in front of them in TCP pass-through mode, so participants keep mutual TLS end to end with the
# instances and OCPP WebSockets pass untouched. Everything listens on loopback; state lives in PNC_CLUSTER_HOME
# (default ./.pnc-cluster) and is kept across runs. Prints where everything is; Ctrl-C or SIGTERM stops it all.
#
# Each instance runs under a supervisor loop, as systemd's Restart=always would: an instance that dies (kill -9, crash)
# is started again after 1 s while HAProxy sends its participants to the other one.
#
# Environment: PNC_CLUSTER_HOME, PNC_CLUSTER_PORT_BASE (default 7080; the cluster uses that port and the 7 after it,
# and the 8th for the standby), PNC_CLUSTER_STANDBY=1 (a streaming standby with synchronous replication beside the
# primary, and a multi-host connection string, so `pg_ctl promote` on the standby is a failover), PNC_CLI (a built pnc
# executable; default: build src/PlugAndCharge.Cli in Release), PNC_PG_BIN (PostgreSQL binaries), PNC_CLUSTER_SINGLE=1
# (instance a only, for measurements of one instance such as scripts/station-load.sh).
# What the cluster is made of (ports, data folders, pid files) is written to PNC_CLUSTER_HOME/cluster.env for tools
# such as scripts/faults.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "cluster: $*" >&2; exit 1; }

apt=$(bash scripts/apt-install.sh haproxy 2>&1) || fail "HAProxy is not installed and could not be installed (apt-get install haproxy): ${apt//$'\n'/ }"
command -v haproxy >/dev/null || fail "haproxy is not on PATH after installing it."

home=$(mkdir -p "${PNC_CLUSTER_HOME:-.pnc-cluster}" && cd "${PNC_CLUSTER_HOME:-.pnc-cluster}" && pwd)
base=${PNC_CLUSTER_PORT_BASE:-7080}
front_http=$base front_https=$((base + 1))
a_http=$((base + 2)) a_https=$((base + 3)) b_http=$((base + 4)) b_https=$((base + 5))
pg_port=$((base + 6)) stats_port=$((base + 7)) standby_port=$((base + 8))
with_standby=${PNC_CLUSTER_STANDBY:-0}
single=${PNC_CLUSTER_SINGLE:-0}

if [ -z "${PNC_CLI:-}" ]; then
  dotnet build src/PlugAndCharge.Cli -c Release -nologo -v quiet -clp:ErrorsOnly >&2 || fail "building src/PlugAndCharge.Cli failed."
  PNC_CLI=$PWD/src/PlugAndCharge.Cli/bin/Release/net10.0/pnc
fi
[ -x "$PNC_CLI" ] || fail "PNC_CLI '$PNC_CLI' is not an executable."

pg_bin=${PNC_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$pg_bin/initdb" ] || fail "PostgreSQL's initdb was not found (apt-get install postgresql, or set PNC_PG_BIN)."
# PostgreSQL refuses to run as root: as root its tools run as the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

secret() { # a random base64 secret, created once (0600)
  [ -s "$1" ] || (umask 077 && head -c "$2" /dev/urandom | base64 -w0 >"$1")
  cat "$1"
}

mkdir -p "$home/logs" "$home/pnc" "$home/run"
pg_data=$home/postgres/data pg_sock=$home/postgres/socket standby_data=$home/postgres/standby
pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping the cluster." >&2
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "$pg_data" "$standby_data"; do
    # A stopped (SIGSTOP) server cannot shut down: continue it first.
    if [ -f "$d/postmaster.pid" ]; then
      kill -CONT "$(head -n 1 "$d/postmaster.pid")" 2>/dev/null || true
      as_pg "$pg_bin/pg_ctl" stop -m fast -D "$d" >/dev/null 2>&1 || true
    fi
  done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# What the instances share: the database, the keys' passphrase and key files, the token-signing key, the contract
# key-encryption key, the station password key, one TLS certificate, the public and OCPI URLs (docs/operator-guide.md §7).
password=$(secret "$home/postgres-password" 24)
export PNC_HOME=$home/pnc
export PNC_KEY_PASSPHRASE_FILE=$home/key-passphrase; secret "$PNC_KEY_PASSPHRASE_FILE" 32 >/dev/null
export PNC_TOKEN_KEY=$(secret "$home/token-key" 32)
export PNC_CONTRACT_KEK=$(secret "$home/contract-kek" 32)
export PNC_STATION_KEY=$(secret "$home/station-key" 32)
export PNC_PUBLIC_URL=http://localhost:$front_http
export PNC_OCPI_BASE_URL=https://127.0.0.1:$front_https/ocpi
if [ "$with_standby" = 1 ]; then
  # Both servers; connect only to the one that is primary (docs/operator-guide.md, failover to a standby).
  export PNC_DATABASE="Host=127.0.0.1:$pg_port,127.0.0.1:$standby_port;Target Session Attributes=primary;Username=pnc;Password=$password;Database=pnc;Maximum Pool Size=60"
else
  export PNC_DATABASE="Host=127.0.0.1;Port=$pg_port;Username=pnc;Password=$password;Database=pnc;Maximum Pool Size=60"
fi

# The HTTPS certificate both instances present (what a real deployment gets from its CA), from a local TLS CA.
tls=$home/tls
if [ ! -s "$tls/server.crt" ]; then
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=PlugAndCharge cluster TLS CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 825 -extfile "$tls/ext" \
    -out "$tls/server.crt" 2>/dev/null
  chmod 600 "$tls"/*.key
fi
export PNC_TLS_CERT=$tls/server.crt PNC_TLS_KEY=$tls/server.key

# One PostgreSQL for both instances.
if [ ! -f "$pg_data/PG_VERSION" ]; then
  mkdir -p "$pg_data" "$pg_sock"
  pwfile=$home/postgres/initdb-pw; (umask 077 && printf '%s' "$password" >"$pwfile")
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$home/postgres"
  as_pg "$pg_bin/initdb" -D "$pg_data" -U pnc --pwfile "$pwfile" --auth=scram-sha-256 -E UTF8 --no-instructions >"$home/logs/initdb.log" 2>&1 \
    || fail "initdb failed: $(tail -n 1 "$home/logs/initdb.log")"
  rm -f "$pwfile"
fi
[ "$(id -u)" -eq 0 ] && mkdir -p "$pg_sock" && chown postgres:postgres "$pg_sock" && touch "$home/logs/postgres.log" && chown postgres "$home/logs/postgres.log"
# With a standby, a commit returns only once the standby has flushed it (synchronous replication), so a promoted
# standby holds every acknowledged write; the setting is on the primary's command line only, so the promoted standby
# does not wait for a standby of its own.
sync_opts=""
[ "$with_standby" = 1 ] && sync_opts="-c synchronous_standby_names=* -c synchronous_commit=on"
as_pg "$pg_bin/pg_ctl" start -w -t 60 -D "$pg_data" -l "$home/logs/postgres.log" \
  -o "-p $pg_port -k $pg_sock -c listen_addresses=127.0.0.1 -c max_connections=200 $sync_opts" >/dev/null || fail "PostgreSQL did not start: $(tail -n 2 "$home/logs/postgres.log")"
if [ "$with_standby" = 1 ]; then
  if [ ! -f "$standby_data/PG_VERSION" ]; then
    # A copy of the primary that streams its WAL (-R writes primary_conninfo and standby.signal).
    pgpass=$home/postgres/pgpass; (umask 077 && printf '127.0.0.1:%s:*:pnc:%s\n' "$pg_port" "$password" >"$pgpass")
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgpass"
    as_pg env PGPASSFILE="$pgpass" "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U pnc -D "$standby_data" -R -X stream -c fast \
      >"$home/logs/basebackup.log" 2>&1 || fail "pg_basebackup failed: $(tail -n 1 "$home/logs/basebackup.log")"
    rm -f "$pgpass"
    # -R does not keep the password: the standby's own (0600) settings file gets the connection it streams over.
    printf "primary_conninfo = 'host=127.0.0.1 port=%s user=pnc password=%s application_name=standby'\n" "$pg_port" "$password" \
      | as_pg tee -a "$standby_data/postgresql.auto.conf" >/dev/null
  fi
  [ "$(id -u)" -eq 0 ] && touch "$home/logs/standby.log" && chown postgres "$home/logs/standby.log"
  as_pg "$pg_bin/pg_ctl" start -w -t 60 -D "$standby_data" -l "$home/logs/standby.log" \
    -o "-p $standby_port -k $pg_sock -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null || fail "the standby did not start: $(tail -n 2 "$home/logs/standby.log")"
  deadline=$((SECONDS + 30)) # no write is acknowledged before the standby is the synchronous one
  until [ "$(PGPASSWORD=$password psql -h 127.0.0.1 -p "$pg_port" -U pnc -d postgres -tAc "select sync_state from pg_stat_replication" 2>/dev/null)" = sync ]; do
    [ $SECONDS -lt $deadline ] || fail "the standby did not become synchronous within 30 s: $(tail -n 2 "$home/logs/standby.log")"
    sleep 0.3
  done
fi
PGPASSWORD=$password psql -h 127.0.0.1 -p "$pg_port" -U pnc -d postgres -tAc "select 1 from pg_database where datname = 'pnc'" | grep -q 1 \
  || PGPASSWORD=$password createdb -h 127.0.0.1 -p "$pg_port" -U pnc pnc

# The development PKI once (migrations run on open), before any instance starts.
"$PNC_CLI" pki init >"$home/logs/pki-init.log" 2>&1 || fail "pnc pki init failed: $(tail -n 1 "$home/logs/pki-init.log")"

wait_ready() { # URL, log, seconds
  local deadline=$((SECONDS + $3))
  until curl -sf -o /dev/null --max-time 2 "$1"; do
    [ $SECONDS -lt $deadline ] || fail "$1 did not become ready within $3 s: $(tail -n 3 "$2")"
    sleep 0.3
  done
}

supervise() { # name http-port https-port [first-start options]: runs the instance, starts it again 1 s after it ends
  local name=$1 http=$2 https=$3 child=""
  shift 3
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; [ -n "$child" ] && wait "$child" 2>/dev/null; rm -f "$home/run/instance-$name.pid"; exit 0' TERM
  while :; do
    "$PNC_CLI" serve --urls "http://127.0.0.1:$http" --https-urls "https://127.0.0.1:$https" "$@" >>"$home/logs/instance-$name.log" 2>&1 &
    child=$!
    echo "$child" >"$home/run/instance-$name.pid"
    wait "$child" || true
    echo "cluster: instance $name ended; starting it again in 1 s" >>"$home/logs/instance-$name.log"
    set -- # later starts: no first-start options
    sleep 1
  done
}

# One after the other: the first registers the admin participant and the CPS signing leaves the second reuses.
supervise a "$a_http" "$a_https" --admin-credential &
pids+=($!)
wait_ready "http://127.0.0.1:$a_http/health/ready" "$home/logs/instance-a.log" 60
if [ "$single" != 1 ]; then
  supervise b "$b_http" "$b_https" &
  pids+=($!)
  wait_ready "http://127.0.0.1:$b_http/health/ready" "$home/logs/instance-b.log" 60
fi
server_b_https="  server b 127.0.0.1:$b_https check port $b_http" server_b_http="  server b 127.0.0.1:$b_http check"
[ "$single" = 1 ] && server_b_https="" server_b_http=""

# TCP pass-through: HAProxy never terminates TLS, so the instances see the participants' client certificates; each
# backend is checked with GET /health/live on the instance's plain-HTTP port. Not /health/ready: that one asks the
# database, which both instances share; when it is down, taking both out of rotation would turn fast 503s, signed
# FAILED answers and OCSP from the pre-signed cache into refused connections and disconnected stations (the fault
# suite showed it). Long tunnel timeout for WebSockets.
cat >"$home/haproxy.cfg" <<EOF
global
  log stderr format short local0 notice
  # The runtime API (owner only): the fault suite's throughput mode takes instance b out of rotation with it.
  stats socket $home/run/haproxy.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  option redispatch
  retries 2
frontend participants
  bind 127.0.0.1:$front_https
  default_backend instances_https
frontend public
  bind 127.0.0.1:$front_http
  default_backend instances_http
backend instances_https
  balance roundrobin
  option httpchk GET /health/live
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
  server a 127.0.0.1:$a_https check port $a_http
$server_b_https
backend instances_http
  balance roundrobin
  option httpchk GET /health/live
  default-server inter 1s fall 2 rise 1
  server a 127.0.0.1:$a_http check
$server_b_http
listen stats
  mode http
  bind 127.0.0.1:$stats_port
  stats enable
  stats uri /
EOF
haproxy -db -f "$home/haproxy.cfg" >"$home/logs/haproxy.log" 2>&1 &
pids+=($!)
# Ready when HAProxy reports both instances UP on both fronts (its checks call /health/live).
deadline=$((SECONDS + 15))
# (",UP," after a passed check "L7OK"; before its first check a server shows "UP 1/2" and "INI").
servers_up=4; [ "$single" = 1 ] && servers_up=2
until [ "$(curl -sf --max-time 2 "http://127.0.0.1:$stats_port/;csv" | grep -cE '^instances_https?,[ab],.*,UP,.*,L7OK,')" = "$servers_up" ]; do
  [ $SECONDS -lt $deadline ] || fail "HAProxy does not see both instances UP: $(tail -n 3 "$home/logs/haproxy.log")"
  sleep 0.3
done

admin=$PNC_HOME/participants
cat <<EOF
PlugAndCharge cluster is running ($([ "$single" = 1 ] && echo "one instance" || echo "two instances") behind HAProxy, TCP pass-through):
  public HTTP    http://127.0.0.1:$front_http   (health: /health/ready, OCSP: /ocsp/CA, CRL: /crl/CA.crl)
  participants   https://127.0.0.1:$front_https   (mutual TLS end to end; OCPP: wss://127.0.0.1:$front_https/ocpp/{stationId}; OCPI: $PNC_OCPI_BASE_URL/versions)
  instances      a: http://127.0.0.1:$a_http https://127.0.0.1:$a_https$([ "$single" = 1 ] || echo "   b: http://127.0.0.1:$b_http https://127.0.0.1:$b_https")
  HAProxy stats  http://127.0.0.1:$stats_port/
  database       PostgreSQL on 127.0.0.1:$pg_port (data in $pg_data)$([ "$with_standby" = 1 ] && echo ", synchronous standby on 127.0.0.1:$standby_port"); PNC_DATABASE is in $home/pnc.env
  TLS            server certificate $tls/server.crt, issued by $tls/ca.crt
  admin login    curl --cacert $tls/ca.crt --cert $admin/admin.crt --key $admin/admin.key https://127.0.0.1:$front_https/v1/participants
  logs           $home/logs
cluster ready. Press Ctrl-C to stop.
EOF
(umask 077 && env | grep -E '^PNC_(HOME|KEY_PASSPHRASE_FILE|TOKEN_KEY|CONTRACT_KEK|STATION_KEY|PUBLIC_URL|OCPI_BASE_URL|DATABASE|TLS_CERT|TLS_KEY)=' | sed 's/^/export /; s/=\(.*\)$/="\1"/' >"$home/pnc.env")
# The cluster's parts, for tools that inject faults into it (scripts/faults.sh).
cat >"$home/cluster.env" <<EOF
CLUSTER_FRONT_HTTP=$front_http
CLUSTER_FRONT_HTTPS=$front_https
CLUSTER_STATS_PORT=$stats_port
CLUSTER_HAPROXY_SOCKET=$home/run/haproxy.sock
CLUSTER_INSTANCES=a:$a_http:$a_https$([ "$single" = 1 ] || echo ",b:$b_http:$b_https")
CLUSTER_PID_DIR=$home/run
CLUSTER_PG_BIN=$pg_bin
CLUSTER_PG_PRIMARY=$pg_data:$pg_port
CLUSTER_PG_STANDBY=$([ "$with_standby" = 1 ] && echo "$standby_data:$standby_port")
CLUSTER_TLS_CA=$tls/ca.crt
CLUSTER_ADMIN_CERT=$admin/admin.crt
CLUSTER_ADMIN_KEY=$admin/admin.key
EOF
# Stops when any process of the cluster ends, or on Ctrl-C / SIGTERM (the traps above stop the rest).
wait -n "${pids[@]}" || true
echo "cluster: a process of the cluster ended; see $home/logs" >&2
exit 1
