#!/usr/bin/env bash
# A single-node Slurm on 127.0.0.1 (munge, slurmctld, slurmd started directly, no systemd), for tests.
#
#   scripts/slurm/local_cluster.sh start DIR    configure and start; DIR holds all state (created if missing)
#   scripts/slurm/local_cluster.sh stop DIR     stop the daemons, SIGKILL the cluster's jobs
#   scripts/slurm/local_cluster.sh run DIR CMD [ARGS...]
#                                               start, run CMD with SLURM_CONF set, stop (always, via a trap)
#
# Clients find the cluster through SLURM_CONF=DIR/slurm.conf (start prints the line to export).
# Needs root (slurmd runs jobs as their user) and Debian's slurmctld, slurmd, slurm-client and munge
# (scripts/setup.sh --with-slurm). The node is this machine with its real CPU count and memory
# (`slurmd -C`), select/cons_tres over cores, MpiDefault=none (as on most sites: the batch script
# has to find a launch that works), no accounting (finished jobs stay visible to `scontrol show job`
# for MinJobAge), and a requeued job may start again after REQUEUE_DELAY seconds (Slurm's
# cred_expire, default here 10; a site's default is 120).
# Settings from the environment:
#   CHIPCAST_SLURM_PORT   slurmctld's port (slurmd uses the next one); default: the first free pair
#                         from 16817 on, so that two clusters (or a site's Slurm on 6817) do not collide
#   REQUEUE_DELAY         seconds before a requeued job is eligible again (default 10)
#   KILL_WAIT             seconds between a job's SIGTERM at its time limit and SIGKILL (default 30)
#   OVERSUBSCRIBE         jobs that may share a core (the partition's OverSubscribe=FORCE:N; default 1,
#                         no sharing); tasks are bound to their allocated cores either way
# Exit status of start: 0 running; 1 bad usage; 3 Slurm cannot start here (the reason is printed).
set -uo pipefail

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 1
}

say() { echo "local_cluster.sh: $*" >&2; }

# Port in use on 127.0.0.1?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

read_pid() { [ -s "$1" ] && cat "$1"; }

# Stops one daemon by the pid it wrote: TERM, then KILL after 10 s.
stop_daemon() {
  local name=$1 pidfile=$2 pid i
  pid=$(read_pid "$pidfile") || return 0
  pid_alive "$pid" || { rm -f "$pidfile"; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    say "$name ($pid) did not stop on SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}

# The job processes of the cluster in DIR: its slurmstepd (they run in DIR/log) and their descendants.
cluster_job_pids() {
  local dir=$1 table pid comm cwd roots=""
  table=$(ps -e -o pid=,ppid=,comm=)
  while read -r pid _ comm; do
    [ "$comm" = slurmstepd ] || continue
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
    case "$cwd" in "$dir"|"$dir"/*) roots+=" $pid" ;; esac
  done <<<"$table"
  [ -n "$roots" ] || return 0
  echo "$table" | awk -v roots="$roots" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; ++i) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END {
      for (grew = 1; grew;) {
        grew = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 }
      }
      for (p in keep) printf "%s ", p
    }'
}

# SIGKILL to the cluster's job processes (a job script may trap SIGTERM and requeue itself, as
# chipcast.sbatch does, so cancelling is no way to end them).
kill_jobs() {
  local left
  left=$(cluster_job_pids "$1")
  [ -n "$left" ] || return 0
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null
}

cmd_stop() {
  local dir=$1
  [ -f "$dir/slurm.conf" ] || { say "no cluster in $dir"; return 0; }
  # The controller first: nothing is requeued or started while the jobs are killed.
  stop_daemon slurmctld "$dir/slurmctld.pid"
  kill_jobs "$dir"
  stop_daemon slurmd "$dir/slurmd.pid"
  kill_jobs "$dir"
  stop_daemon munged "$dir/munge/munged.pid"
  say "stopped the cluster in $dir"
}

# Prints the tail of the daemons' logs (why start failed).
show_logs() {
  local dir=$1 f
  for f in "$dir/munge/munged.log" "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
    [ -s "$f" ] && { echo "---- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
  done
}

cmd_start() {
  local dir=$1
  local missing=() p
  for p in munged mungekey slurmctld slurmd sbatch scontrol squeue sinfo; do
    command -v "$p" >/dev/null || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "cannot start: ${missing[*]} not installed (scripts/setup.sh --with-slurm)"
    return 3
  fi
  if [ "$(id -u)" -ne 0 ]; then
    say "cannot start: needs root (slurmd starts jobs as their user); running as $(id -un)"
    return 3
  fi
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd)
  if pid_alive "$(read_pid "$dir/slurmctld.pid")"; then
    say "a cluster already runs in $dir (stop it first)"
    return 1
  fi
  mkdir -p "$dir/munge" "$dir/log" "$dir/ctld" "$dir/spool"
  chmod 0700 "$dir" "$dir/munge"

  local port=${CHIPCAST_SLURM_PORT:-}
  if [ -z "$port" ]; then
    for port in $(seq 16817 2 16917); do
      port_busy "$port" || port_busy $((port + 1)) || break
    done
  fi
  if port_busy "$port" || port_busy $((port + 1)); then
    say "cannot start: port $port or $((port + 1)) is in use on 127.0.0.1"
    return 3
  fi

  local oversubscribe=NO
  case "${OVERSUBSCRIBE:-1}" in
    1) ;;
    [2-9]|[1-9][0-9]) oversubscribe=FORCE:$OVERSUBSCRIBE ;;
    *) say "OVERSUBSCRIBE=$OVERSUBSCRIBE: give a number of jobs per core"; return 1 ;;
  esac

  # The node as slurmd sees it (real CPUs, sockets, cores, threads, memory), named after this host.
  local host node_line
  host=$(hostname -s)
  node_line=$(slurmd -C 2>/dev/null | head -1)
  case "$node_line" in
    NodeName=*) ;;
    *) say "cannot start: 'slurmd -C' printed no node line"; return 3 ;;
  esac
  node_line="NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host ${node_line#NodeName=* } State=UNKNOWN"

  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm/local_cluster.sh: one node on 127.0.0.1, everything under $dir.
ClusterName=chipcast
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again.
AuthInfo=socket=$dir/munge/munged.sock,cred_expire=${REQUEUE_DELAY:-10}
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
ReturnToService=2
KillWait=${KILL_WAIT:-30}
MinJobAge=900
InactiveLimit=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
$node_line
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=$oversubscribe
EOF

  # PMIx's shared-memory stores (gds ds21, ds12) need process-shared locks that some sandboxes lack
  # (gVisor, where this CI runs: every rank aborts in MPI_Init with "OPAL ERROR: Unreachable");
  # the hash store works everywhere and is as fast for a few ranks.
  # PMIx's per-step folders go under DIR, not /tmp/spmix_appdir_<uid>_<job>.<step>: job ids start
  # at 1 in every cluster, and two clusters at once (or a stale folder) would make steps fail.
  mkdir -p "$dir/pmix"
  printf 'PMIxEnv=PMIX_MCA_gds=hash\nPMIxCliTmpDirBase=%s\n' "$dir/pmix" >"$dir/mpi.conf"

  # From here on a failure stops whatever did start.
  # (The trap runs at the script's exit, where this function's locals are gone: a global.)
  STARTING_DIR=$dir
  trap 'cmd_stop "$STARTING_DIR" >/dev/null 2>&1' EXIT

  local sock=$dir/munge/munged.sock
  if [ ! -s "$dir/munge/munge.key" ]; then
    mungekey --create --keyfile="$dir/munge/munge.key" 2>/dev/null \
      || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 0600 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$sock" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" 2>>"$dir/munge/munged.log"
  for _ in $(seq 50); do
    munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; then
    say "cannot start: munged does not answer on $sock"
    show_logs "$dir"
    return 3
  fi

  export SLURM_CONF=$dir/slurm.conf
  if ! slurmctld -f "$SLURM_CONF" -i 2>>"$dir/log/slurmctld.log"; then
    say "cannot start: slurmctld failed"
    show_logs "$dir"
    return 3
  fi
  for _ in $(seq 100); do
    scontrol ping 2>/dev/null | grep -q "is UP" && break
    sleep 0.1
  done
  if ! scontrol ping 2>/dev/null | grep -q "is UP"; then
    say "cannot start: slurmctld does not answer on port $port"
    show_logs "$dir"
    return 3
  fi
  if ! slurmd -f "$SLURM_CONF" -N "$host" 2>>"$dir/log/slurmd.log"; then
    say "cannot start: slurmd failed"
    show_logs "$dir"
    return 3
  fi
  local state=""
  for _ in $(seq 150); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
    case "$state" in idle*|mixed*|allocated*) break ;; esac
    sleep 0.2
  done
  case "$state" in
    idle*|mixed*|allocated*) ;;
    *)
      say "cannot start: node $host is '${state:-unknown}', not idle"
      scontrol show node "$host" 2>/dev/null | grep -i reason >&2
      show_logs "$dir"
      return 3 ;;
  esac
  trap - EXIT
  say "running: $(sinfo -h -N -o '%N %c CPUs %m MB %T' | head -1), slurmctld on 127.0.0.1:$port, state in $dir"
  echo "export SLURM_CONF=$SLURM_CONF"
}

cmd_run() {
  local dir=$1
  shift
  [ $# -gt 0 ] || usage
  cmd_start "$dir" >/dev/null || return $?
  dir=$(cd "$dir" && pwd)
  RUNNING_DIR=$dir
  trap 'cmd_stop "$RUNNING_DIR"' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  SLURM_CONF=$dir/slurm.conf "$@"
}

[ $# -ge 2 ] || usage
action=$1
shift
case "$action" in
  start) cmd_start "$1" ;;
  stop) cmd_stop "$1" ;;
  run) cmd_run "$@" ;;
  *) usage ;;
esac
