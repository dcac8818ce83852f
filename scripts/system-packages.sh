#!/usr/bin/env bash
# Install the Debian packages the test suite needs (PostgreSQL, Chromium, Dovecot, npm for axe-core, dnsmasq, Redis), when missing.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
command -v dovecot >/dev/null || need+=(dovecot-imapd)
command -v npm >/dev/null || need+=(npm)  # scripts/axe.sh fetches axe-core from the npm registry
[ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)  # a real DNS server on loopback for SPF/DKIM/DMARC tests
command -v redis-server >/dev/null || need+=(redis-server)  # the shared layer and cache of the several-process test
if [ ${#need[@]} -eq 0 ]; then
  echo "==> system packages present: postgresql, chromium, dovecot, npm, dnsmasq, redis-server"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "==> missing Debian packages: ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "==> installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
echo "==> installed: ${need[*]}"
