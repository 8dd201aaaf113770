#!/usr/bin/env bash
# Debian packages the project needs beyond Python: redis-server (broker) and, for the browser
# tests, chromium. Installed only when missing; needs root (or sudo) the first time.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "system: installing ${missing[*]} from Debian"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
