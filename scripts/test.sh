#!/usr/bin/env bash
# One command that installs what is missing, builds every configuration this machine can build,
# and runs the whole test suite on each:
#   default  OpenMP backend (+ the GPU path on the CPU through Thrust's OMP system when CUDA's
#            CCCL headers are present): build, all tests
#   asan     the default build with AddressSanitizer + UndefinedBehaviorSanitizer (-O1 -g, the
#            first finding aborts; a debug build, so the kernels' CC_ASSERT checks are on): all tests
#   mpi      the same with Open MPI: build the CLI and the tests labelled mpi, run them (the
#            rank-count tests run under mpirun; the Slurm test runs scripts/slurm/chipcast.sbatch
#            on a one-node Slurm it starts, as root); the other tests are the default preset's
#   kokkos   Debian's Kokkos 3.4 (Serial): build the CLI and the tests labelled kokkos (those that
#            run every registered backend), run them
#   cuda     nvcc, sm_80 + sm_90: compile and link (the GPU tests need a device; see README)
#   hip      hipcc, gfx90a + gfx940: compile and link, when Debian's hipcc is installed
#   fuzz     clang++-15 with ASan+UBSan: build the libFuzzer harnesses, run each for
#            CHIPCAST_FUZZ_SECONDS (default 30) s on its seed corpus (tests/fuzz/run.sh)
# Set CHIPCAST_TEST_PRESETS="default mpi" (for example) to run fewer. The last line says which
# presets passed (with their counts of skipped tests), which were only built, and which were
# skipped and why; each skipped test's reason is in its preset's ctest output.
set -euo pipefail
cd "$(dirname "$0")/.."

# Configure, build and test one preset, its output also in out/test-<preset>.log; counts the
# tests it skipped (ctest prints "skipped: NAME: reason" for each, cmake/ctest_skip_reasons.cmake).
workflow() {
  local preset=$1 log="out/test-$1.log"
  echo "== $preset: configure, build, test"
  if cmake --workflow --preset "$preset" 2>&1 | tee "$log"; then
    passed+=("$preset ($(grep -c '^skipped: ' "$log" || true) tests skipped)")
  else
    failed+=("$preset")
  fi
}
presets=${CHIPCAST_TEST_PRESETS:-default asan mpi kokkos cuda hip fuzz}
bash scripts/setup.sh
# Each optional group on its own, so that one that cannot install does not take the others down;
# a preset whose packages are missing is skipped below with a visible reason.
for group in --with-mpi --with-slurm --with-kokkos --with-hip --with-fuzz --with-chromium; do
  bash scripts/setup.sh "$group" || echo "test.sh: scripts/setup.sh $group failed; its preset will be skipped" >&2
done
failed=()
passed=()       # "preset (N tests skipped)"
built_only=()   # compiled and linked, no tests run
skipped=()      # "preset (why)"
mkdir -p out
for preset in $presets; do
  start=$(date +%s)
  case "$preset" in
    cuda)
      if ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
        echo "== cuda: skipped (no nvcc on this machine)"; skipped+=("cuda (no nvcc)"); continue
      fi
      echo "== cuda: configure, build (compile and link)"
      if { cmake --preset cuda -DCHIPCAST_BUILD_BENCH=OFF -DCHIPCAST_BUILD_TESTS=OFF && cmake --build --preset cuda; }; then
        built_only+=("cuda (no tests: they need a device)")
      else
        failed+=(cuda)
      fi ;;
    hip)
      if ! command -v hipcc >/dev/null; then
        echo "== hip: skipped (hipcc is not installed: scripts/setup.sh --with-hip)"; skipped+=("hip (no hipcc)"); continue
      fi
      echo "== hip: configure, build (compile and link)"
      if { cmake --preset hip -DCHIPCAST_BUILD_BENCH=OFF -DCHIPCAST_BUILD_TESTS=OFF && cmake --build --preset hip; }; then
        built_only+=("hip (no tests: they need a device)")
      else
        failed+=(hip)
      fi ;;
    fuzz)
      if ! command -v clang++-15 >/dev/null || [ ! -e /usr/lib/llvm-15/lib/libomp.so ]; then
        echo "== fuzz: skipped (clang++-15 or libomp-15-dev is not installed: scripts/setup.sh --with-fuzz)"
        skipped+=("fuzz (no clang++-15)"); continue
      fi
      echo "== fuzz: configure, build the fuzz targets, run each fuzzer ${CHIPCAST_FUZZ_SECONDS:-30} s"
      if { cmake --preset fuzz && cmake --build --preset fuzz && tests/fuzz/run.sh build-fuzz "${CHIPCAST_FUZZ_SECONDS:-30}"; }; then
        passed+=("fuzz (each fuzzer ${CHIPCAST_FUZZ_SECONDS:-30} s, no finding)")
      else
        failed+=(fuzz)
      fi ;;
    mpi|kokkos)
      if [ "$preset" = mpi ] && ! command -v mpicxx >/dev/null; then
        echo "== mpi: skipped (Open MPI is not installed: scripts/setup.sh --with-mpi)"
        skipped+=("mpi (no Open MPI)"); continue
      fi
      if [ "$preset" = kokkos ] && ! dpkg-query -W -f='${Status}' libtrilinos-kokkos-dev 2>/dev/null | grep -q "ok installed" \
         && [ -z "${Kokkos_ROOT:-}" ]; then
        echo "== kokkos: skipped (no Kokkos: scripts/setup.sh --with-kokkos, or set Kokkos_ROOT)"
        skipped+=("kokkos (no Kokkos)"); continue
      fi
      workflow "$preset" ;;
    *)
      workflow "$preset" ;;
  esac
  echo "== $preset took $(( $(date +%s) - start )) s"
done
join() { local IFS=,; echo "$*" | sed 's/,/, /g'; }
summary="passed: $(join "${passed[@]:-none}")"
[ ${#built_only[@]} -gt 0 ] && summary+="; built only: $(join "${built_only[@]}")"
[ ${#skipped[@]} -gt 0 ] && summary+="; presets skipped: $(join "${skipped[@]}")"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: $(join "${failed[@]}"); $summary" >&2
  exit 1
fi
echo "test.sh: $summary (the reasons of skipped tests are in each preset's ctest output and out/test-<preset>.log)"
