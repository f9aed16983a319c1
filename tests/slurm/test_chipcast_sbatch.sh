#!/usr/bin/env bash
# scripts/slurm/chipcast.sbatch against a real single-node Slurm (scripts/slurm/local_cluster.sh).
#
#   tests/slurm/test_chipcast_sbatch.sh BUILD_MPI/chipcast
#
# Cases, each checked through Slurm's own view of the job (`scontrol show job`: state, exit code,
# restarts) and the job's log:
#   requeue    --time=1 and the script's margins: chipcast stops at its --time-limit, exits 75, the
#              job requeues itself at least twice and ends COMPLETED; crossing.csv, bands.csv and
#              resolved.toml byte-identical to one uninterrupted run (no MPI, no checkpoint);
#   walltime   --time=1 with MARGIN_MIN=0 (no time limit, no backstop): Slurm's own SIGTERM at the
#              wall time stops the job; the script requeues it and it ends COMPLETED, byte-identical;
#   badconfig  a config chipcast rejects: status 2, FAILED, never requeued, no checkpoint folder left;
#   norequeue  sbatch --no-requeue, stopped by `scancel --signal=TERM`: chipcast checkpoints (75),
#              Slurm refuses the requeue, the job ends FAILED (not COMPLETED) with no outputs;
#   cancel     a plain `scancel` (SIGTERM, like the wall time): not requeued, ends CANCELLED;
#   mpirun     LAUNCHER=mpirun (the fallback where srun offers no pmix): a short run, byte-identical.
# The two long cases run side by side (the test's cluster lets two jobs share a core), a core's
# worth each. Their trajectory count is sized from this machine's measured speed on one core so that
# a run needs about 3 one-minute slots of ~46 s of work (at least 3 slots, i.e. 2 requeues, unless
# the machine gets ~30 % faster than it was measured); a slower machine needs more slots, i.e. more
# time, not a failure. About 4 minutes on an idle 2-core machine.
# Exit status: 0 passed, 1 failed, 77 skipped (no Slurm, not root, not an MPI build: the reason is
# printed). CHIPCAST_SLURM_REQUIRED=1 turns a skip into a failure. The daemons are always stopped.
set -uo pipefail

SKIP=77
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CHIPCAST=${1:?usage: test_chipcast_sbatch.sh PATH_TO_MPI_chipcast}
CHIPCAST=$(cd "$(dirname "$CHIPCAST")" && pwd)/$(basename "$CHIPCAST")
CLUSTER_SH=$SRC/scripts/slurm/local_cluster.sh
SBATCH_SCRIPT=$SRC/scripts/slurm/chipcast.sbatch
CONFIG=$SRC/configs/baseline.toml
T0=$(date +%s)

say() { echo "[$(($(date +%s) - T0)) s] $*"; }
skip() {
  echo "SKIPPED: $*"
  if [ "${CHIPCAST_SLURM_REQUIRED:-0}" = 1 ]; then
    echo "FAIL: CHIPCAST_SLURM_REQUIRED=1"
    exit 1
  fi
  exit $SKIP
}

[ -x "$CHIPCAST" ] || { echo "FAIL: $CHIPCAST is not an executable"; exit 1; }
"$CHIPCAST" info 2>/dev/null | grep "^mpi: " | grep -vq "not built in" || skip "$CHIPCAST is not an MPI build (cmake --preset mpi)"

WORK=$(mktemp -d /tmp/chipcast-slurm-test.XXXXXX)
CLUSTER=$WORK/cluster
FAILED=0
cleanup() {
  "$CLUSTER_SH" stop "$CLUSTER" >/dev/null 2>&1
  if [ "$FAILED" = 0 ]; then
    rm -rf "$WORK"
  else
    echo "kept $WORK for a look (job logs in $WORK/*.log, daemons' in $CLUSTER/log)"
  fi
}
trap cleanup EXIT
trap 'FAILED=1; exit 143' TERM
trap 'FAILED=1; exit 130' INT
# A guardian outside this process tree stops the daemons should this script be SIGKILLed (a ctest
# timeout), where no trap runs.
( setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; "$2" stop "$3" >/dev/null 2>&1' \
    guardian $$ "$CLUSTER_SH" "$CLUSTER" </dev/null >/dev/null 2>&1 & )

check() {  # check DESCRIPTION COMMAND...: runs COMMAND, records a failure
  local what=$1
  shift
  if "$@"; then
    echo "  ok: $what"
  else
    echo "  FAIL: $what"
    FAILED=1
  fi
}

# ---- the cluster ----
# Two jobs may share a core (the two long cases run side by side, a core's worth each); a requeued
# job may start again after 5 s (a site's default is 120).
OVERSUBSCRIBE=2 REQUEUE_DELAY=5 "$CLUSTER_SH" start "$CLUSTER" >"$WORK/start.out" 2>"$WORK/start.err"
rc=$?
cat "$WORK/start.err"
if [ $rc -eq 3 ]; then
  skip "Slurm cannot start here (above)"
elif [ $rc -ne 0 ]; then
  echo "FAIL: local_cluster.sh start exited $rc"
  FAILED=1
  exit 1
fi
export SLURM_CONF=$CLUSTER/slurm.conf
cd "$WORK" || exit 1
say "cluster up"

# ---- Slurm's view of a job ----
job_field() {  # job_field JOB KEY: one field of `scontrol show job -o`
  scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | awk -v k="$2" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'
}
is_final() {
  case "$1" in
    PENDING|RUNNING|REQUEUED|REQUEUE_FED|REQUEUE_HOLD|COMPLETING|CONFIGURING|SUSPENDED|RESIZING|SIGNALING|STAGE_OUT|STOPPED|"") return 1 ;;
  esac
  return 0
}
declare -A END_AT
# done_yet JOB: true once the job has ended (the same final state seen twice, 1 s apart, so that
# the moment between an instance's end and its requeue is not taken for the end).
declare -A SEEN
done_yet() {
  local s
  s=$(job_field "$1" JobState)
  if is_final "$s"; then
    if [ "${SEEN[$1]:-}" = "$s" ]; then
      [ -n "${END_AT[$1]:-}" ] || END_AT[$1]=$(date +%s)
      return 0
    fi
    SEEN[$1]=$s
  else
    SEEN[$1]=""
  fi
  return 1
}
wait_jobs() {  # wait_jobs LIMIT_S JOB...: until all have ended
  local limit=$1 j pending
  shift
  local end=$(($(date +%s) + limit))
  while :; do
    pending=0
    for j in "$@"; do done_yet "$j" || pending=1; done
    [ $pending = 0 ] && return 0
    if [ "$(date +%s)" -ge "$end" ]; then
      echo "  FAIL: jobs $* still not ended after $limit s"
      for j in "$@"; do scontrol show job -o "$j" | tr ' ' '\n' | grep -E "^(JobId|JobState|Restarts|RunTime)="; done
      FAILED=1
      return 1
    fi
    sleep 1
  done
}
submit() {  # submit NAME [sbatch options] -- [env] -- chipcast flags
  local name=$1
  shift
  local opts=() envs=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local exports="ALL,CHIPCAST=$CHIPCAST,CKPT_DIR=$WORK/$name.ckpt,OUT_DIR=$WORK/$name.out"
  local e
  for e in ${envs[@]+"${envs[@]}"}; do exports+=",$e"; done
  sbatch --parsable -J "$name" -N 1 --ntasks-per-node=2 -n 2 -c 1 --output="$WORK/$name.log" \
    --export="$exports" "${opts[@]}" "$SBATCH_SCRIPT" "$@"
}
same_outputs() {  # same_outputs DIR REFERENCE_DIR
  local f
  for f in crossing.csv bands.csv resolved.toml; do
    cmp -s "$1/$f" "$2/$f" || { echo "    $1/$f differs from $2/$f (or is missing)"; return 1; }
  done
}
grep_log() { grep -q -- "$2" "$WORK/$1.log"; }
count_log() { grep -c -- "$2" "$WORK/$1.log"; }

# ---- sizing: this machine's speed on one core ----
"$CHIPCAST" run "$CONFIG" -n 400000 --threads 1 --quiet -o "$WORK/calibrate" >/dev/null || { echo "FAIL: calibration run"; FAILED=1; exit 1; }
RATE=$(awk -F'[:,]' '/"seconds"/ { print int(400000 / $2); exit }' "$WORK/calibrate/summary.json")
# A slot of --time=1: ~58 s left at the start, 10 s margin, a step and the checkpoint: ~46 s of work
# on the core's worth each long job gets (2 ranks with one thread each on 2 cores shared by both).
N=$(awk -v r="$RATE" 'BEGIN { n = r * 46 * 3.0; printf "%d", int(n / 65536 + 1) * 65536 }')
say "one core runs $RATE trajectories/s: the long cases run -n $N"
BATCH=(--threads 1 --batch 32768 --quiet)

# ---- submit: the quick cases first, then the long ones ----
printf '[run]\ntrajectories = "many"\n' >"$WORK/bad.toml"
J_BAD=$(submit badconfig -n 1 --ntasks-per-node=1 --time=2 -- -- "$WORK/bad.toml")
J_NOQ=$(submit norequeue -n 1 --ntasks-per-node=1 --time=3 --no-requeue -- -- "$CONFIG" -n 1000000000 "${BATCH[@]}" --checkpoint-every 0)
J_CAN=$(submit cancel -n 1 --ntasks-per-node=1 --time=3 -- -- "$CONFIG" -n 1000000000 "${BATCH[@]}" --checkpoint-every 0)
J_MPI=$(submit mpirun --time=3 -- LAUNCHER=mpirun -- "$CONFIG" -n 200000 "${BATCH[@]}")
J_REQ=$(submit requeue --time=1 -- -- "$CONFIG" -n "$N" "${BATCH[@]}")
J_WALL=$(submit walltime --time=1 -- MARGIN_MIN=0 -- "$CONFIG" -n "$N" "${BATCH[@]}" --checkpoint-every 5)
say "submitted: badconfig $J_BAD, norequeue $J_NOQ, cancel $J_CAN, requeue $J_REQ, walltime $J_WALL, mpirun $J_MPI"

# norequeue: SIGTERM to the step, cancel: scancel, once chipcast has written a checkpoint.
for _ in $(seq 600); do
  [ -s "$WORK/norequeue.ckpt/chipcast.ckpt" ] && [ -s "$WORK/cancel.ckpt/chipcast.ckpt" ] && break
  sleep 0.1
done
scancel --signal=TERM "$J_NOQ"
scancel "$J_CAN"
wait_jobs 120 "$J_BAD" "$J_NOQ" "$J_CAN"
say "badconfig, norequeue and cancel ended"

echo "badconfig (job $J_BAD):"
check "FAILED with exit code 2" [ "$(job_field "$J_BAD" JobState) $(job_field "$J_BAD" ExitCode)" = "FAILED 2:0" ]
check "not requeued" [ "$(job_field "$J_BAD" Restarts)" = 0 ]
check "the log says bad config, not requeued" grep_log badconfig "bad config or flags (status 2"
check "no checkpoint folder left behind" [ ! -e "$WORK/badconfig.ckpt" ]

echo "norequeue (job $J_NOQ):"
check "FAILED with exit code 75 (not COMPLETED)" [ "$(job_field "$J_NOQ" JobState) $(job_field "$J_NOQ" ExitCode)" = "FAILED 75:0" ]
check "not requeued" [ "$(job_field "$J_NOQ" Restarts)" = 0 ]
check "the log says Slurm refused the requeue" grep_log norequeue "Slurm refused to requeue"
check "the checkpoint is kept" [ -s "$WORK/norequeue.ckpt/chipcast.ckpt" ]
check "no outputs" [ ! -e "$WORK/norequeue.out/crossing.csv" ]

echo "cancel (job $J_CAN):"
check "CANCELLED" [ "$(job_field "$J_CAN" JobState)" = CANCELLED ]
check "not requeued" [ "$(job_field "$J_CAN" Restarts)" = 0 ]
check "the log says Slurm is ending it early, not requeued" grep_log cancel "Slurm is ending the job before its time limit (scancel, or preemption): not"
check "the checkpoint is kept" [ -s "$WORK/cancel.ckpt/chipcast.ckpt" ]

# The reference, uninterrupted and without MPI or a checkpoint, once a CPU is free.
REF_PID=""
start_reference() {
  [ -n "$REF_PID" ] && return 0
  say "reference run (-n $N, 2 threads) started"
  "$CHIPCAST" run "$CONFIG" -n "$N" --threads 2 --quiet -o "$WORK/reference" >"$WORK/reference.log" 2>&1 &
  REF_PID=$!
}
"$CHIPCAST" run "$CONFIG" -n 200000 --threads 1 --quiet -o "$WORK/reference-small" >/dev/null 2>&1 \
  || { echo "FAIL: the small reference run"; FAILED=1; }
LIMIT=$((900 - ($(date +%s) - T0)))
END=$(($(date +%s) + LIMIT))
while :; do
  done_yet "$J_REQ"; a=$?
  done_yet "$J_WALL"; b=$?
  done_yet "$J_MPI"; c=$?
  [ $a = 0 ] || [ $b = 0 ] && start_reference
  [ $a = 0 ] && [ $b = 0 ] && [ $c = 0 ] && break
  if [ "$(date +%s)" -ge "$END" ]; then
    echo "FAIL: requeue/walltime/mpirun jobs not ended after $LIMIT s"
    FAILED=1
    break
  fi
  sleep 1
done
say "requeue, walltime and mpirun ended (requeue at $((${END_AT[$J_REQ]:-0} - T0)) s, walltime at $((${END_AT[$J_WALL]:-0} - T0)) s)"
if [ -n "$REF_PID" ]; then
  wait "$REF_PID" || { echo "FAIL: the reference run failed:"; cat "$WORK/reference.log"; FAILED=1; }
fi
say "reference done"

echo "mpirun (job $J_MPI):"
check "COMPLETED" [ "$(job_field "$J_MPI" JobState) $(job_field "$J_MPI" ExitCode)" = "COMPLETED 0:0" ]
check "launched by mpirun" grep_log mpirun "launch: mpirun"
check "outputs byte-identical to an uninterrupted run" same_outputs "$WORK/mpirun.out" "$WORK/reference-small"

echo "requeue (job $J_REQ, -n $N, --time=1):"
check "COMPLETED" [ "$(job_field "$J_REQ" JobState) $(job_field "$J_REQ" ExitCode)" = "COMPLETED 0:0" ]
R=$(job_field "$J_REQ" Restarts)
check "requeued at least twice (Restarts=$R)" [ "${R:-0}" -ge 2 ]
check "every requeue after status 75" [ "$(count_log requeue "checkpointed (status 75): requeued")" -eq "${R:-0}" ]
grep -m1 -o "launch: [^;]*" "$WORK/requeue.log" | sed 's/^/  /'
check "outputs byte-identical to an uninterrupted run" same_outputs "$WORK/requeue.out" "$WORK/reference"

echo "walltime (job $J_WALL, -n $N, --time=1, MARGIN_MIN=0):"
# TIMEOUT with exit code 0 too: the last slot's run may end in the step the wall time interrupts.
wall_done() { [ "$(job_field "$J_WALL" ExitCode)" = 0:0 ] && [[ "$(job_field "$J_WALL" JobState)" =~ ^(COMPLETED|TIMEOUT)$ ]]; }
check "COMPLETED (or TIMEOUT, exit code 0, when the run ended as the wall time struck)" wall_done
check "the log's last word is done" bash -c "grep chipcast.sbatch '$WORK/walltime.log' | tail -1 | grep -q 'done: outputs in'"
R=$(job_field "$J_WALL" Restarts)
check "requeued at least once (Restarts=$R)" [ "${R:-0}" -ge 1 ]
check "stopped by Slurm at the time limit" grep_log walltime "DUE TO TIME LIMIT"
check "the script took the SIGTERM" grep_log walltime "SIGTERM: the job is being stopped"
check "and requeued the job" grep_log walltime "requeued job $J_WALL"
check "outputs byte-identical to an uninterrupted run" same_outputs "$WORK/walltime.out" "$WORK/reference"

say "done"
if [ "$FAILED" != 0 ]; then
  for j in badconfig norequeue cancel requeue walltime mpirun; do
    echo "---- $j.log"
    cat "$WORK/$j.log" 2>/dev/null
  done
  echo "FAILED"
  exit 1
fi
echo "PASSED"
