#!/usr/bin/env bash
# Print the path of axe-core's axe.min.js (the accessibility checker the browser tests inject), installing
# the pinned version from the npm registry into .cache/axe the first time. Needs npm (system-packages.sh).
set -euo pipefail
AXE_VERSION=4.14.1
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.cache/axe/$AXE_VERSION"
js="$dir/node_modules/axe-core/axe.min.js"
if [ ! -s "$js" ]; then
  command -v npm >/dev/null || { echo "npm is missing: run scripts/system-packages.sh" >&2; exit 1; }
  tmp="$(mktemp -d "$root/.cache/axe.XXXXXX" 2>/dev/null || { mkdir -p "$root/.cache"; mktemp -d "$root/.cache/axe.XXXXXX"; })"
  trap 'rm -rf "$tmp"' EXIT
  npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts --loglevel=error \
    "axe-core@$AXE_VERSION" >&2
  got="$(node -p "require('$tmp/node_modules/axe-core/package.json').version")"
  [ "$got" = "$AXE_VERSION" ] || { echo "expected axe-core $AXE_VERSION, got $got" >&2; exit 1; }
  mkdir -p "$(dirname "$dir")"
  if [ -s "$js" ]; then
    rm -rf "$tmp"  # a parallel run finished first: keep its install
  else
    mv "$tmp" "$dir"  # in place at once: a concurrent run sees either nothing or the whole install
  fi
  trap - EXIT
fi
echo "$js"
