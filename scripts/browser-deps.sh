#!/usr/bin/env bash
# JavaScript the browser tests inject into pages: axe-core (accessibility checks), pinned in
# tests/browser/package-lock.json and installed from the npm registry with `npm ci` when missing or stale.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
if ! command -v npm >/dev/null; then
  echo "browser-deps: npm is missing (Debian package 'npm'); the accessibility checks need axe-core" >&2
  exit 1
fi
if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "browser-deps: installing axe-core from npm"
  npm ci --no-audit --no-fund --silent
fi
