#!/usr/bin/env bash
# A fake PBS / PJM server for tests: `qsub`/`pjsub` run the job script in the background on this
# machine; `qstat -f -x`/`pjstat -H --data` report it in the real commands' output formats;
# `qdel`/`pjdel` kill it. State in $FAKE_SCHED_DIR. With FAKE_SCHED_FORGET=1 the server accepts
# jobs but never runs them and does not know them afterwards (a job that vanished).
set -euo pipefail
tool="$1"; shift
dir="${FAKE_SCHED_DIR:?set FAKE_SCHED_DIR}"; mkdir -p "$dir"
last="${!#}"; id="${last%%.*}"

submit() {  # $1 = directive prefix
  local script="$last" out
  exec 9>"$dir/lock"; flock 9
  id=$(( $(cat "$dir/next" 2>/dev/null || echo 100) + 1 )); echo "$id" >"$dir/next"
  exec 9>&-
  out="$(sed -n "s/^$1 -o //p" "$script" | head -1)"; eval "out=${out:-$dir/$id.out}"
  cp "$script" "$dir/$id.sh"
  if [ -n "${FAKE_SCHED_FORGET:-}" ]; then return; fi
  touch "$dir/$id.known"
  setsid bash -c 'bash "$1" >"$2" 2>&1; echo $? >"$3.exit"' _ "$script" "$out" "$dir/$id" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/$id.pid"
}

state() {  # prints "running" / exit code; returns 1 for an unknown job
  [ -f "$dir/$id.known" ] || return 1
  if [ -f "$dir/$id.exit" ]; then cat "$dir/$id.exit"; else echo running; fi
}

case "$tool" in
  qsub) submit '#PBS'; echo "$id.fakeserver" ;;
  pjsub) submit '#PJM'; echo "[INFO] PJM 0000 pjsub Job $id submitted." ;;
  qstat)
    s="$(state)" || { echo "qstat: Unknown Job Id $last" >&2; exit 153; }
    echo "Job Id: $id.fakeserver"
    echo "    Job_Name = fake"
    if [ "$s" = running ]; then echo "    job_state = R"
    else echo "    job_state = F"; echo "    Exit_status = $s"; fi ;;
  pjstat)
    s="$(state)" || { echo "[ERR.] PJM 0000 pjstat Job $last does not exist." >&2; exit 1; }
    echo "JOB_ID,ST,EC,PC,REASON"
    if [ "$s" = running ]; then echo "$id,RUN,-,-,-"; else echo "$id,EXT,$s,0,-"; fi ;;
  qdel|pjdel)
    [ -f "$dir/$id.pid" ] && kill -- "-$(cat "$dir/$id.pid")" 2>/dev/null || true ;;
  *) echo "unknown fake tool $tool" >&2; exit 2 ;;
esac
