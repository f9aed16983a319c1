#!/usr/bin/env bash
# Strong scaling of `chipcast run` over MPI ranks, and the cost of checkpointing.
#
#   bench/scaling.sh [BUILD_DIR] [TRAJECTORIES] [RANKS...]
#   bench/scaling.sh build-mpi 10000000 1 2                  (the defaults)
#   REPEAT=3 bench/scaling.sh ...                             (best of 3, rank counts alternating)
#   NICE=-20 bench/scaling.sh ...                             (as root on a shared machine: run at high
#                                                              priority so other jobs yield the cores)
#
# Each rank runs one OpenMP thread (--threads 1, mpirun --bind-to core), so R
# ranks use R cores. "loop_s" is summary.json's "seconds" (the batch loop:
# after MPI start-up and config loading, before output writing); "wall_s" the
# whole mpirun; "cpu_s" user+system time of all ranks (with /usr/bin/time),
# which shows the work added by splitting even on a busy machine. Checks
# that every rank count gives byte-identical crossing.csv and bands.csv,
# then times the largest rank count with no checkpoints, checkpoints at the
# default interval (--checkpoint DIR: at most every 60 s, plus the final one)
# and after every step (--checkpoint-every 0).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-mpi}
N=${2:-10000000}
shift $(( $# > 2 ? 2 : $# ))
RANKS=("$@")
[ ${#RANKS[@]} -eq 0 ] && RANKS=(1 2)
REPEAT=${REPEAT:-1}
CONFIG=configs/baseline.toml
EXE=$BUILD/chipcast
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chipcast-scaling.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TIMER=()
[ -n "${NICE:-}" ] && TIMER=(nice -n "$NICE")
[ -x /usr/bin/time ] && TIMER+=(/usr/bin/time -f "%U %S" -o "$WORK/cpu")

# run NAME RANKS [flags...]: prints "loop_s wall_s cpu_s"
run() {
  local name=$1 ranks=$2; shift 2
  local t0 t1 cpu=nan
  rm -rf "$WORK/$name"
  t0=$(date +%s.%N)
  ${TIMER[@]+"${TIMER[@]}"} mpirun --oversubscribe --bind-to core -np "$ranks" "$EXE" run "$CONFIG" -n "$N" \
    --threads 1 -o "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
  t1=$(date +%s.%N)
  [ -s "$WORK/cpu" ] && cpu=$(awk '{ print $1 + $2 }' "$WORK/cpu")
  sed -n 's/^rank 0 waited \([0-9.]*\) s .*/\1/p' "$WORK/$name.log" > "$WORK/$name.sync"
  python3 - "$WORK/$name/summary.json" "$t0" "$t1" "$cpu" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["seconds"]
print(s, float(sys.argv[3]) - float(sys.argv[2]), sys.argv[4])
PY
}

calc() { python3 -c "print($*)"; }

echo "# chipcast strong scaling: $CONFIG, $N trajectories, --threads 1 per rank, $(nproc) cores, best of $REPEAT${NICE:+, nice $NICE}"
echo "# $("$EXE" info | head -1); $(mpirun --version | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A LOOP WALL CPU SYNC
for ((rep = 0; rep < REPEAT; ++rep)); do
  for r in "${RANKS[@]}"; do
    read -r loop wall cpu < <(run "r$r" "$r")
    if [ -z "${LOOP[$r]:-}" ] || [ "$(calc "$loop < ${LOOP[$r]}")" = True ]; then
      LOOP[$r]=$loop WALL[$r]=$wall CPU[$r]=$cpu SYNC[$r]=$(cat "$WORK/r$r.sync")
    fi
    if [ "$r" != "${RANKS[0]}" ]; then
      for f in crossing.csv bands.csv; do
        cmp -s "$WORK/r${RANKS[0]}/$f" "$WORK/r$r/$f" || { echo "error: $f differs between ${RANKS[0]} and $r ranks"; exit 1; }
      done
    fi
  done
done
r0=${RANKS[0]}
printf "%-6s %9s %9s %9s %9s %11s %9s\n" ranks loop_s wall_s cpu_s speedup efficiency wait_s
for r in "${RANKS[@]}"; do
  printf "%-6s %9.2f %9.2f %9s %9.2f %10.0f%% %9s\n" "$r" "${LOOP[$r]}" "${WALL[$r]}" "${CPU[$r]}" \
    "$(calc "${LOOP[$r0]} / ${LOOP[$r]} * $r0")" "$(calc "100 * ${LOOP[$r0]} * $r0 / ${LOOP[$r]} / $r")" \
    "${SYNC[$r]:--}"
done
echo "# wait_s: rank 0's time waiting for the other ranks at step ends (imbalance + MPI latency)"
echo "# crossing.csv and bands.csv byte-identical across rank counts"

# What the cores give without MPI: R independent one-rank runs of N/R trajectories each, at once.
R=${RANKS[-1]}
if [ "$R" -gt 1 ]; then
  pids=()
  for ((i = 0; i < R; ++i)); do
    ${NICE:+nice -n "$NICE"} "$EXE" run "$CONFIG" -n $((N / R)) --seed $((1000 + i)) --threads 1 -q \
      -o "$WORK/indep$i" > /dev/null 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  worst=$(for ((i = 0; i < R; ++i)); do
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$WORK/indep$i/summary.json"
  done | sort -g | tail -1)
  printf "# %d independent 1-rank runs of N/%d at once (no MPI): slowest loop %.2f s = %.2fx one rank's N:\n" \
    "$R" "$R" "$worst" "$(calc "${LOOP[$r0]} * $r0 / $worst")"
  echo "#   the ceiling this machine's cores allow; compare the speedup above with it"
fi

echo
echo "# checkpoint cost, $R ranks, default batch (the backend's: 2^18 per rank and step for openmp)"
printf "%-12s %9s %12s %9s %10s %10s\n" mode loop_s checkpoints ckpt_s ckpt_share file_MB
read -r loop0 _ _ < <(run none "$R")
printf "%-12s %9.2f %12s %9s %10s %10s\n" none "$loop0" 0 - - -
for mode in interval every-step; do
  flags=(--checkpoint "$WORK/ck-$mode")
  [ "$mode" = every-step ] && flags+=(--checkpoint-every 0)
  rm -rf "$WORK/ck-$mode"
  read -r loop _ _ < <(run "$mode" "$R" "${flags[@]}")
  # "K checkpoints written to PATH in S s": rank 0's time in the reductions and writes
  read -r count ckpt_s < <(sed -n 's/^\([0-9]*\) checkpoints written to .* in \([0-9.]*\) s$/\1 \2/p' "$WORK/$mode.log")
  cmp -s "$WORK/none/bands.csv" "$WORK/$mode/bands.csv" || { echo "error: bands.csv differs with checkpoints"; exit 1; }
  printf "%-12s %9.2f %12s %9.2f %9.2f%% %10.2f\n" "$mode" "$loop" "$count" "$ckpt_s" "$(calc "100 * $ckpt_s / $loop")" \
    "$(calc "$(stat -c %s "$WORK/ck-$mode/chipcast.ckpt") / 1e6")"
done
echo "# ckpt_share: time in checkpoints / loop time (the loop times themselves vary more than that on a busy machine)"
