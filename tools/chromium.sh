#!/usr/bin/env bash
# Debian's chromium, headless, for the browser tests of the web UI (stepline ui).
#
#   tools/chromium.sh start   # idempotent; installs chromium with apt if absent; prints CHROMIUM=/usr/bin/chromium
#   tools/chromium.sh stop    # nothing keeps running between tests (each test starts its own browser): a no-op
#
# Playwright (a dev dependency) drives this browser with executable_path=$CHROMIUM: `playwright install`
# downloads a browser from the network and cannot work here. As root it needs --no-sandbox.
set -euo pipefail

find_chromium() { command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true; }

start() {
  if [ -z "$(find_chromium)" ]; then
    { apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium; } >&2
  fi
  local found; found="$(find_chromium)"
  if [ -z "$found" ]; then
    echo "chromium: not installed and apt could not install it" >&2
    exit 1
  fi
  echo "CHROMIUM=$found"
}

case "${1:-}" in
  start) start ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
