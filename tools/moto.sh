#!/usr/bin/env bash
# A moto server (fake AWS APIs: S3, Secrets Manager, SSM, Step Functions, ...) on 127.0.0.1 for tests.
#
#   tools/moto.sh start   # idempotent; prints the connection settings as KEY=VALUE lines on stdout
#   tools/moto.sh stop    # drops this caller's lease; stops the server when no live caller holds one
#   tools/moto.sh reset   # clears every service's state (POST /moto-api/reset)
#
# Settings from the environment: MOTO_PORT (default 15000), STATE (default .ci-state under the repo).
# Several test sessions may share one server: `start` records a lease for the calling process
# ($PPID) and `stop` only kills the server it started once no other live lease remains.
# Tests should use their own bucket/secret names rather than reset, which would clear other
# sessions' data.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/tools/lib/leases.sh"
PORT="${MOTO_PORT:-15000}"
STATE="${STATE:-$ROOT/.ci-state}"
LEASES="$STATE/moto-$PORT.leases"
PIDFILE="$STATE/moto-$PORT.pid"
LOG="$STATE/moto-$PORT.log"
URL="http://127.0.0.1:$PORT"
MOTO_SERVER="$ROOT/.venv/bin/moto_server"

up() { curl -sf -o /dev/null "$URL/moto-api/data.json"; }

start() {
  mkdir -p "$STATE" "$LEASES"
  if [ ! -x "$MOTO_SERVER" ]; then
    # installs the workspace's dev group, which pins moto[server] together with s3fs[boto3]
    (cd "$ROOT" && uv sync --all-packages --all-extras -q) >&2
  fi
  if ! up; then
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      :  # starting right now (another caller); wait below
    else
      nohup "$MOTO_SERVER" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 </dev/null &
      echo $! >"$PIDFILE"
    fi
  fi
  for _ in $(seq 1 150); do up && break; sleep 0.2; done
  up || { echo "moto server did not answer on $URL within 30 s:" >&2; tail -20 "$LOG" >&2 || true; exit 1; }
  lease_take "$LEASES"
  echo "AWS_ENDPOINT_URL=$URL"
  echo "AWS_ACCESS_KEY_ID=testing"
  echo "AWS_SECRET_ACCESS_KEY=testing"
  echo "AWS_DEFAULT_REGION=us-east-1"
}

stop() {
  lease_release "$LEASES" "moto server" || return 0
  stop_pidfile "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  reset) curl -sf -X POST "$URL/moto-api/reset" >/dev/null ;;
  *) echo "usage: $0 start|stop|reset" >&2; exit 2 ;;
esac
