#!/usr/bin/env bash
# Installs what the browser tests need, only when it is missing, so a second run takes
# a moment: Debian's chromium (at /usr/bin/chromium) and the npm packages pinned in
# tests/browser/package-lock.json (playwright-core drives the system chromium; it never
# downloads a browser of its own).
#
# Run by nextest before the browser test binary (.config/nextest.toml), and by hand:
#   scripts/browser-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'browser-tools: %s\n' "$*" >&2; }

if [ ! -x /usr/bin/chromium ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "/usr/bin/chromium is missing and apt-get is not available: install Chromium by hand"
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "installing chromium needs root (or sudo)"; exit 1; }
    sudo="sudo"
  fi
  say "installing chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends chromium >/dev/null; then
    $sudo apt-get update >/dev/null
    $sudo apt-get install -y --no-install-recommends chromium >/dev/null
  fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    say "installing nodejs and npm with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm >/dev/null; }
  else
    say "node and npm are needed: install Node.js 18 or newer"
    exit 1
  fi
fi

lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.package-lock.json
if [ ! -d tests/browser/node_modules ] || [ "$lock" -nt "$stamp" ]; then
  say "installing npm packages (npm ci)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# Tell the tests where things are (nextest reads NEXTEST_ENV after setup scripts).
if [ -n "${NEXTEST_ENV:-}" ]; then
  echo "CHROMIUM_PATH=/usr/bin/chromium" >> "$NEXTEST_ENV"
fi
say "ready: $(/usr/bin/chromium --version 2>/dev/null | head -1), node $(node --version)"
