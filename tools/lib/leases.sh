# Sourced by tools/*.sh. Several test sessions may share one server: `start` takes a lease for the
# calling process ($PPID) and `stop` drops it, stopping the server only when no live lease remains.

# lease_take DIR: record that the calling process uses the server.
lease_take() { mkdir -p "$1"; touch "$1/$PPID"; }

# lease_release DIR NAME: drop the calling process's lease and those of dead processes. Succeeds
# when no live lease remains (the server may be stopped); otherwise says who holds one and fails.
lease_release() {
  local dir="$1" name="$2" lease
  mkdir -p "$dir"; rm -f "$dir/$PPID"
  for lease in "$dir"/*; do
    [ -e "$lease" ] || continue
    kill -0 "$(basename "$lease")" 2>/dev/null || rm -f "$lease"
  done
  if [ -n "$(ls -A "$dir")" ]; then
    echo "$name left running: still leased by $(ls "$dir" | tr '\n' ' ')" >&2
    return 1
  fi
}

# stop_pidfile PIDFILE: SIGTERM the process it names, SIGKILL it after 5 s, remove the file.
stop_pidfile() {
  local pid
  [ -f "$1" ] || return 0
  pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}
