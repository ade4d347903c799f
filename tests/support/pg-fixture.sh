#!/usr/bin/env bash
# Starts/stops a throw-away PostgreSQL cluster for the test run, on a free loopback port.
#   pg-fixture.sh start DIR   → DIR/url holds postgresql://vaani:vaani@127.0.0.1:PORT/vaani
# TCP connections authenticate with SCRAM-SHA-256 passwords, as in production (staff accounts' passwords are
# really checked); the fixture's own set-up uses the trusted Unix socket. vaani owns the databases and may
# create roles (the staff roles), as the documented owner account does.
#   pg-fixture.sh stop DIR
#   pg-fixture.sh pause DIR / resume DIR   stops the server (fast shutdown: connections cut) and starts it again
#                                          on the same port with the same data (outage tests)
# The cluster itself lives in a fresh directory under /tmp (the postgres user may not be able to enter the
# build tree, e.g. under /root); DIR/datadir remembers where.
set -euo pipefail
action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL server binaries not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
stop_cluster() {
  if [ -f "$dir/datadir" ]; then
    local data
    data=$(cat "$dir/datadir")
    if [ -d "$data/data" ]; then as_pg "$bin/pg_ctl -D $data/data -m fast stop" >/dev/null 2>&1 || true; fi
    rm -rf "$data"
  fi
  rm -rf "$dir"
}
start_server() {
  local data=$1 port=$2
  as_pg "$bin/pg_ctl -D $data/data -o \"-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$data/server.crt -c ssl_key_file=$data/server.key\" -l $data/pg.log -w start" >/dev/null || {
    cat "$data/pg.log" >&2; exit 1; }
}
case "$action" in
  start)
    stop_cluster
    mkdir -p "$dir"
    data=$(mktemp -d /tmp/vaani-pg.XXXXXX)
    chmod 755 "$data"
    echo "$data" > "$dir/datadir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # TLS on, as in production: a throw-away self-signed certificate for 127.0.0.1; DIR/ca.pem lets clients
    # verify it (sslmode=verify-full&sslrootcert=DIR/ca.pem).
    openssl req -new -x509 -days 2 -nodes -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
      -keyout "$data/server.key" -out "$data/server.crt" >/dev/null 2>&1
    chmod 600 "$data/server.key"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data/server.key" "$data/server.crt"
    as_pg "$bin/initdb -D $data/data -U postgres --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 >$data/initdb.log 2>&1" || {
      cat "$data/initdb.log" >&2; exit 1; }
    echo "$port" > "$dir/port"
    start_server "$data" "$port"
    as_pg "$bin/psql -h $data -p $port -U postgres -q -c \"CREATE ROLE vaani LOGIN CREATEDB CREATEROLE PASSWORD 'vaani'\" -c \"CREATE DATABASE vaani OWNER vaani\""
    cp "$data/server.crt" "$dir/ca.pem"
    echo "postgresql://vaani:vaani@127.0.0.1:$port/vaani" > "$dir/url.tmp"
    mv "$dir/url.tmp" "$dir/url"
    echo "PostgreSQL test cluster on 127.0.0.1:$port ($data)"
    ;;
  stop)
    stop_cluster
    ;;
  pause)
    data=$(cat "$dir/datadir")
    as_pg "$bin/pg_ctl -D $data/data -m fast -w stop" >/dev/null
    ;;
  resume)
    data=$(cat "$dir/datadir")
    start_server "$data" "$(cat "$dir/port")"
    ;;
esac
