#!/usr/bin/env bash
# The whole suite, twice: on SQLite, then on a throwaway PostgreSQL server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-packages.sh
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
work=$(mktemp -d /tmp/happydesk-test.XXXXXX); chmod 755 "$work"
pgport=${HAPPYDESK_TEST_PG_PORT:-$(scripts/free-port.sh)}
cleanup() { scripts/pg.sh stop "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
status=0

# Browser tests run in a process of their own after the rest: in one long process the SQLite pass's
# browser tests met "disk I/O error" on the test database (not understood yet; see the stop note).
echo "==> test suite on SQLite"
HAPPYDESK_DATA_DIR="$work/sqlite" .venv/bin/python -m pytest --durations=15 -m "not e2e" "$@" || status=1
echo "==> browser tests on SQLite"
HAPPYDESK_DATA_DIR="$work/sqlite-e2e" .venv/bin/python -m pytest --durations=15 -m e2e "$@" || status=1

scripts/pg.sh start "$work/pg" "$pgport"
echo "==> test suite on PostgreSQL"
HAPPYDESK_DATA_DIR="$work/pgdata" DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/happydesk" \
  .venv/bin/python -m pytest --durations=15 "$@" || status=1
exit $status
