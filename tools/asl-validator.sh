#!/usr/bin/env bash
# asl-validator (npm, Amazon States Language schema + graph checks) for the Step Functions tests.
#
#   tools/asl-validator.sh start   # idempotent; installs asl-validator@4 into .ci-state/node with the
#                                  # machine's npm when missing; prints ASL_VALIDATOR=/path/to/bin
#   tools/asl-validator.sh stop    # nothing runs in the background: a no-op (for the services fixture)
#
# Usage of the binary: "$ASL_VALIDATOR" --json-path state-machine.json   (exit 0 valid, 1 invalid)
# Settings from the environment: STATE (default .ci-state under the repo). Waits are bounded
# (npm install gets 300 s); concurrent callers are serialised with a lock file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${STATE:-$ROOT/.ci-state}"
NODE_DIR="$STATE/node"
BIN="$NODE_DIR/node_modules/.bin/asl-validator"

start() {
  mkdir -p "$NODE_DIR"
  if [ ! -x "$BIN" ]; then
    command -v npm >/dev/null || { echo "npm is not installed: apt-get install -y npm" >&2; exit 1; }
    (
      flock -w 300 9 || { echo "another asl-validator install holds $NODE_DIR/.lock for 300 s" >&2; exit 1; }
      if [ ! -x "$BIN" ]; then
        cd "$NODE_DIR"
        [ -f package.json ] || npm init -y >/dev/null
        timeout 300 npm install --no-audit --no-fund --loglevel=error asl-validator@4 >&2
      fi
    ) 9>"$NODE_DIR/.lock"
  fi
  [ -x "$BIN" ] || { echo "asl-validator was not installed in $NODE_DIR" >&2; exit 1; }
  echo "ASL_VALIDATOR=$BIN"
}

case "${1:-start}" in
  start) start ;;
  stop) : ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
