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
echo "==> page benchmarks on SQLite (${BENCH_PAGES_N:-100000} conversations)"
mkdir -p "$work/pages-sqlite"
BENCH_PAGES_DIR="$work/pages-sqlite" .venv/bin/python bench/pages.py sqlite | tee "$work/pages-sqlite.json"
echo "==> serving benchmark on SQLite (the same data; before and after ADR 0007)"
BENCH_SERVING_N=${BENCH_PAGES_N:-100000} BENCH_SERVING_DIR="$work/pages-sqlite" \
  .venv/bin/python bench/serving.py sqlite | tee "$work/serving-sqlite.json"
echo "==> page benchmarks on PostgreSQL"
BENCH_PG_PAGES_URL="postgres://postgres@127.0.0.1:$port/pages" \
  .venv/bin/python -c "import psycopg; c = psycopg.connect('postgres://postgres@127.0.0.1:$port/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS pages'); c.execute('CREATE DATABASE pages')"
BENCH_PG_PAGES_URL="postgres://postgres@127.0.0.1:$port/pages" .venv/bin/python bench/pages.py postgresql | tee "$work/pages-pg.json"
echo "==> serving benchmark on PostgreSQL"
BENCH_SERVING_N=${BENCH_PAGES_N:-100000} BENCH_PG_SERVING_URL="postgres://postgres@127.0.0.1:$port/pages" \
  .venv/bin/python bench/serving.py postgresql | tee "$work/serving-pg.json"
echo "==> happiness report benchmark on SQLite (${BENCH_REPORT_N:-1000000} conversations)"
.venv/bin/python bench/report.py sqlite | tee "$work/report-sqlite.json"
echo "==> happiness report benchmark on PostgreSQL"
BENCH_PG_REPORT_URL="postgres://postgres@127.0.0.1:$port/report" \
  .venv/bin/python -c "import psycopg; c = psycopg.connect('postgres://postgres@127.0.0.1:$port/postgres', autocommit=True); c.execute('DROP DATABASE IF EXISTS report'); c.execute('CREATE DATABASE report')"
BENCH_PG_REPORT_URL="postgres://postgres@127.0.0.1:$port/report" .venv/bin/python bench/report.py postgresql | tee "$work/report-pg.json"
.venv/bin/python bench/collect.py "$work/sqlite.json" "$work/pg.json" "$work/pages-sqlite.json" "$work/pages-pg.json" \
  "$work/serving-sqlite.json" "$work/serving-pg.json" "$work/report-sqlite.json" "$work/report-pg.json"
