#!/usr/bin/env bash
# A single-node Slurm cluster (slurmctld + slurmd + munged) on 127.0.0.1 for tests.
#
#   tools/slurm.sh start   # idempotent; installs Debian slurm-wlm + munge if missing; prints SLURM_CONF=...
#   tools/slurm.sh stop    # drops this caller's lease; stops the daemons this script started when no
#                          # live caller holds a lease
#
# State lives under .ci-state/slurm (SLURM_ROOT). Ports 16817/16818 (SLURMCTLD_PORT/SLURMD_PORT).
# No accounting daemon: jobs are read back with `scontrol show job -o` (MinJobAge keeps them 1 h).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/tools/lib/leases.sh"
SLURM_ROOT="${SLURM_ROOT:-$ROOT/.ci-state/slurm}"
export SLURM_CONF="$SLURM_ROOT/slurm.conf"
LEASES="$SLURM_ROOT/leases"
CTLD_PORT="${SLURMCTLD_PORT:-16817}"; SLURMD_PORT="${SLURMD_PORT:-16818}"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null; } >&2
  fi
  [ -s /etc/munge/munge.key ] || /usr/sbin/mungekey --create --force >&2
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge; chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    mkdir -p "$SLURM_ROOT"; touch "$SLURM_ROOT/munged-started"
    for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  NODE="$(hostname -s)"; MEM=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 1024 ))
  mkdir -p "$SLURM_ROOT"/{state,spool,log} "$LEASES"
  cat >"$SLURM_CONF.new" <<CONF
ClusterName=ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
StateSaveLocation=$SLURM_ROOT/state
SlurmdSpoolDir=$SLURM_ROOT/spool
SlurmctldPidFile=$SLURM_ROOT/slurmctld.pid
SlurmdPidFile=$SLURM_ROOT/slurmd.pid
SlurmctldLogFile=$SLURM_ROOT/log/slurmctld.log
SlurmdLogFile=$SLURM_ROOT/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_ROOT/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=3600
DefMemPerCPU=256
ReturnToService=2
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  # keep the running cluster's config untouched if nothing changed
  changed=0
  if [ -f "$SLURM_CONF" ] && cmp -s "$SLURM_CONF" "$SLURM_CONF.new"; then rm -f "$SLURM_CONF.new"; else mv "$SLURM_CONF.new" "$SLURM_CONF"; changed=1; fi
  if ! scontrol ping 2>/dev/null | grep -q UP; then
    alive "$SLURM_ROOT/slurmctld.pid" || /usr/sbin/slurmctld -c -f "$SLURM_CONF"
  fi
  for _ in $(seq 1 60); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.5; done
  [ "$changed" = 0 ] || scontrol reconfigure >&2 || true
  alive "$SLURM_ROOT/slurmd.pid" || /usr/sbin/slurmd -f "$SLURM_CONF"
  for _ in $(seq 1 60); do sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break; sleep 0.5; done
  sinfo -h -o "%P %T %N" | grep -qE 'idle|mixed|allocated' || { tail -20 "$SLURM_ROOT"/log/*.log >&2; exit 1; }
  lease_take "$LEASES"
  echo "SLURM_CONF=$SLURM_CONF"
}

stop() {
  lease_release "$LEASES" "slurm" || return 0
  stop_pidfile "$SLURM_ROOT/slurmd.pid"
  stop_pidfile "$SLURM_ROOT/slurmctld.pid"
  if [ -f "$SLURM_ROOT/munged-started" ] && [ -f /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    rm -f "$SLURM_ROOT/munged-started"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
