#!/usr/bin/env bash
# Starts/stops a throw-away PostgreSQL cluster for the test run, on a free loopback port.
#   pg-fixture.sh start DIR   → DIR/url holds postgresql://vaani:vaani@127.0.0.1:PORT/vaani
#   pg-fixture.sh stop DIR
set -euo pipefail
action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL server binaries not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
case "$action" in
  start)
    if [ -f "$dir/data/postmaster.pid" ]; then as_pg "$bin/pg_ctl -D $dir/data -m immediate stop" >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$bin/initdb -D $dir/data -U postgres -A trust --no-sync -E UTF8 >$dir/initdb.log 2>&1"
    as_pg "$bin/pg_ctl -D $dir/data -o \"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" -l $dir/pg.log -w start" >/dev/null
    as_pg "$bin/psql -h 127.0.0.1 -p $port -U postgres -q -c \"CREATE ROLE vaani LOGIN CREATEDB PASSWORD 'vaani'\" -c \"CREATE DATABASE vaani OWNER vaani\""
    echo "postgresql://vaani:vaani@127.0.0.1:$port/vaani" > "$dir/url.tmp"
    mv "$dir/url.tmp" "$dir/url"
    echo "PostgreSQL test cluster on 127.0.0.1:$port"
    ;;
  stop)
    if [ -d "$dir/data" ]; then as_pg "$bin/pg_ctl -D $dir/data -m fast stop" >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    ;;
esac
