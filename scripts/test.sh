#!/usr/bin/env bash
# One command that installs what is missing, builds every configuration this machine can build,
# and runs the whole test suite on each:
#   default  OpenMP backend (+ the GPU path on the CPU through Thrust's OMP system when CUDA's
#            CCCL headers are present): build, all tests
#   mpi      the same with Open MPI: build, all tests (the rank-count tests run under mpirun)
#   kokkos   Debian's Kokkos 3.4 (Serial): build, all tests (every backend test runs on kokkos too)
#   cuda     nvcc, sm_80 + sm_90: compile and link (the GPU tests need a device; see README)
#   hip      hipcc, gfx90a + gfx940: compile and link, when Debian's hipcc is installed
# Set CHIPCAST_TEST_PRESETS="default mpi" (for example) to run fewer.
set -euo pipefail
cd "$(dirname "$0")/.."
presets=${CHIPCAST_TEST_PRESETS:-default mpi kokkos cuda hip}
bash scripts/setup.sh --all || {
  echo "test.sh: the optional packages did not all install; falling back to the base set" >&2
  bash scripts/setup.sh
}
failed=()
for preset in $presets; do
  start=$(date +%s)
  case "$preset" in
    cuda)
      if ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
        echo "== cuda: skipped (no nvcc on this machine)"; continue
      fi
      echo "== cuda: configure, build (compile and link)"
      { cmake --preset cuda -DCHIPCAST_BUILD_BENCH=OFF -DCHIPCAST_BUILD_TESTS=OFF && cmake --build --preset cuda; } || failed+=(cuda) ;;
    hip)
      if ! command -v hipcc >/dev/null; then
        echo "== hip: skipped (hipcc is not installed: scripts/setup.sh --with-hip)"; continue
      fi
      echo "== hip: configure, build (compile and link)"
      { cmake --preset hip -DCHIPCAST_BUILD_BENCH=OFF -DCHIPCAST_BUILD_TESTS=OFF && cmake --build --preset hip; } || failed+=(hip) ;;
    *)
      echo "== $preset: configure, build, test"
      cmake --workflow --preset "$preset" || failed+=("$preset") ;;
  esac
  echo "== $preset took $(( $(date +%s) - start )) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all of [$presets] passed"
