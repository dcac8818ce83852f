#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for tests and benchmarks: `pg.sh start DIR PORT` / `pg.sh stop DIR`.
set -euo pipefail
action=$1; dir=$2; port=${3:-54329}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    mkdir -p "$dir"; rm -rf "$dir/data"; mkdir -p "$dir/data" "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir" && chmod 755 "$dir"
    as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
    echo "==> PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
    ;;
  stop)
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
esac
