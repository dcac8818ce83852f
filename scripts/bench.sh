#!/usr/bin/env bash
# `make bench`: ingest benchmarks on SQLite and on a throwaway PostgreSQL server; figures in bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-packages.sh
work=$(mktemp -d /tmp/happydesk-bench.XXXXXX); chmod 755 "$work"
port=${HAPPYDESK_BENCH_PG_PORT:-$(scripts/free-port.sh)}
trap 'scripts/pg.sh stop "$work/pg"; rm -rf "$work"' EXIT
echo "==> benchmark on SQLite"
.venv/bin/python bench/ingest.py sqlite | tee "$work/sqlite.json"
scripts/pg.sh start "$work/pg" "$port"
echo "==> benchmark on PostgreSQL"
BENCH_PG_URL="postgres://postgres@127.0.0.1:$port/bench" BENCH_PG_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres" \
  .venv/bin/python bench/ingest.py postgresql | tee "$work/pg.json"
.venv/bin/python bench/report.py "$work/sqlite.json" "$work/pg.json"
