#!/usr/bin/env bash
# `make quality`: every quality/*.py, each in a throwaway data folder; fails if any misses its aim.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
shopt -s nullglob
for script in quality/*.py; do
  case "$(basename "$script")" in _*) continue ;; esac
  echo "==> $script"
  data=$(mktemp -d /tmp/happydesk-quality.XXXXXX)
  HAPPYDESK_DATA_DIR="$data" PYTHONPATH=src:. .venv/bin/python "$script" || status=1
  rm -rf "$data"
done
exit $status
