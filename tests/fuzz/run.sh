#!/usr/bin/env bash
# Runs each libFuzzer harness of a CHIPCAST_BUILD_FUZZERS build for a fixed time, on a copy of its seed
# corpus (the repository is not modified), and fails on any crash, sanitizer report, leak, out-of-memory
# or timeout, printing the reproducer's path.
#   tests/fuzz/run.sh BUILD_DIR SECONDS_EACH      e.g. tests/fuzz/run.sh build-fuzz 60
# Set CHIPCAST_FUZZ_WORK to choose the work folder (default: a new one under ${TMPDIR:-/tmp}); it is
# removed when every fuzzer passed and kept (corpus, logs, reproducers) when one failed.
# Reproduce a finding with: BUILD_DIR/tests/fuzz/fuzz_NAME REPRODUCER
set -uo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS_EACH" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
work=${CHIPCAST_FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/chipcast_fuzz.XXXXXX")}
mkdir -p "$work"

failed=()
# name, corpus folder, extra flags
run_one() {
  local name=$1 corpus=$2
  shift 2
  local exe=$build/tests/fuzz/$name
  if [ ! -x "$exe" ]; then
    echo "run.sh: $exe is missing (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    failed+=("$name")
    return
  fi
  rm -rf "$work/$name"
  mkdir -p "$work/$name/corpus" "$work/$name/artifacts" "$work/$name/tmp"
  cp "$here/corpus/$corpus"/* "$work/$name/corpus/"
  echo "== $name: ${seconds} s on $(ls "$work/$name/corpus" | wc -l) seeds"
  # TMPDIR: the harnesses make their scratch folders there, so they go with the work folder.
  # A fixed seed (CHIPCAST_FUZZ_SEED, default 1): the same mutations in the same order on every
  # run, so a finding in CI is found again by the same command (how far it gets still depends on
  # the machine's speed); set another seed to explore further.
  TMPDIR=$work/$name/tmp "$exe" -seed="${CHIPCAST_FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/$name/artifacts/" "$@" "$work/$name/corpus" \
      > "$work/$name/log" 2>&1
  local rc=$?
  local runs speed
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name/log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$name/log" | tail -1)
  if [ $rc -ne 0 ] || [ -n "$(ls -A "$work/$name/artifacts")" ]; then
    echo "== $name: FAILED (libFuzzer exit status $rc) after ${runs:-?} runs; the end of its log:"
    grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse)' "$work/$name/log" | tail -40
    for f in "$work/$name/artifacts"/*; do
      [ -e "$f" ] && echo "== $name: reproducer $f (rerun: $exe $f)"
    done
    failed+=("$name")
  else
    echo "== $name: passed, ${runs:-?} runs, ${speed:-?} per second, corpus $(ls "$work/$name/corpus" | wc -l) files"
  fi
}

run_one fuzz_config config -dict="$here/toml.dict"
run_one fuzz_checkpoint checkpoint

if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: FAILED: ${failed[*]} (work folder kept: $work)" >&2
  exit 1
fi
[ -z "${CHIPCAST_FUZZ_WORK:-}" ] && rm -rf "$work"
echo "run.sh: all fuzzers passed (${seconds} s each)"
