#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests (Debian's packages; installed with apt if absent).
#
#   tools/postgres.sh start   # idempotent; prints PG_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/runlog
#   tools/postgres.sh stop    # drops this caller's lease; stops the cluster when no live caller holds one
#
# Settings from the environment: PGPORT (default 55432), PGROOT (default .ci-state/pg under the repo).
# The cluster runs as the `postgres` user with trust auth, fsync off, listening on 127.0.0.1 only.
# Several test sessions may share it: `start` records a lease for the calling process ($PPID) and
# `stop` only stops the cluster once no other live lease remains.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/tools/lib/leases.sh"
PORT="${PGPORT:-55432}"
PGROOT="${PGROOT:-$ROOT/.ci-state/pg}"
LEASES="$PGROOT.leases"

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_postgres() { (cd / && su postgres -s /bin/sh -c "$1"); }
# A checkout the postgres user cannot enter (a 0700 home or mktemp folder) keeps its cluster under /tmp
# instead, in a folder named after the checkout; the leases stay in the checkout.
FALLBACK="${TMPDIR:-/tmp}/stepline-pg-$(printf %s "$ROOT" | md5sum | cut -c1-10)"
reachable() { as_postgres "test -w '$PGROOT'" 2>/dev/null; }

start() {
  if [ -z "$(pgbin)" ] || [ ! -x "$(pgbin)/initdb" ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql; } >&2
  fi
  local bin; bin="$(pgbin)"
  mkdir -p "$PGROOT" "$LEASES"
  chown postgres:postgres "$PGROOT"
  if ! reachable; then
    PGROOT="$FALLBACK"
    mkdir -p "$PGROOT" && chown postgres:postgres "$PGROOT" && chmod 700 "$PGROOT"
    echo "the postgres user cannot reach this checkout; the cluster lives in $PGROOT" >&2
  fi
  if [ ! -f "$PGROOT/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb -D '$PGROOT/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >&2
  fi
  if "$bin/pg_isready" -h 127.0.0.1 -p "$PORT" -q \
     && ! as_postgres "$bin/pg_ctl -D '$PGROOT/data' status" >/dev/null 2>&1; then
    # another checkout's throwaway cluster already serves this port: use it, never stop it
    echo "postgres on port $PORT was started elsewhere; using it" >&2
  elif ! as_postgres "$bin/pg_ctl -D '$PGROOT/data' status" >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl -D '$PGROOT/data' -l '$PGROOT/log' -w -t 30 \
      -o '-c listen_addresses=127.0.0.1 -p $PORT -k $PGROOT -c fsync=off -c max_connections=200' start" >&2
  fi
  for _ in $(seq 1 60); do "$bin/pg_isready" -h 127.0.0.1 -p "$PORT" -q && break; sleep 0.5; done
  "$bin/pg_isready" -h 127.0.0.1 -p "$PORT" -q || { echo "postgres did not answer on port $PORT" >&2; tail -20 "$PGROOT/log" >&2; exit 1; }
  if ! "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='runlog'" | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE runlog" >&2
  fi
  lease_take "$LEASES"
  echo "PG_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/runlog"
}

stop() {
  lease_release "$LEASES" "postgres" || return 0
  local bin; bin="$(pgbin)"
  reachable || PGROOT="$FALLBACK"
  if [ -n "$bin" ] && [ -f "$PGROOT/data/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl -D '$PGROOT/data' -m fast -w -t 30 stop" >&2 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
