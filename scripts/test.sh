#!/usr/bin/env bash
# One command that installs what is missing, builds every configuration this machine can build,
# and runs the whole test suite on each:
#   default  OpenMP backend (+ the GPU path on the CPU through Thrust's OMP system when CUDA's
#            CCCL headers are present): build, all tests
#   mpi      the same with Open MPI: build, all tests (the rank-count tests run under mpirun; the
#            Slurm test runs scripts/slurm/chipcast.sbatch on a one-node Slurm it starts, as root)
#   kokkos   Debian's Kokkos 3.4 (Serial): build, all tests (every backend test runs on kokkos too)
#   cuda     nvcc, sm_80 + sm_90: compile and link (the GPU tests need a device; see README)
#   hip      hipcc, gfx90a + gfx940: compile and link, when Debian's hipcc is installed
# Set CHIPCAST_TEST_PRESETS="default mpi" (for example) to run fewer.
set -euo pipefail
cd "$(dirname "$0")/.."
presets=${CHIPCAST_TEST_PRESETS:-default mpi kokkos cuda hip}
bash scripts/setup.sh
# Each optional group on its own, so that one that cannot install does not take the others down;
# a preset whose packages are missing is skipped below with a visible reason.
for group in --with-mpi --with-slurm --with-kokkos --with-hip; do
  bash scripts/setup.sh "$group" || echo "test.sh: scripts/setup.sh $group failed; its preset will be skipped" >&2
done
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
    mpi|kokkos)
      if [ "$preset" = mpi ] && ! command -v mpicxx >/dev/null; then
        echo "== mpi: skipped (Open MPI is not installed: scripts/setup.sh --with-mpi)"; continue
      fi
      if [ "$preset" = kokkos ] && ! dpkg-query -W -f='${Status}' libtrilinos-kokkos-dev 2>/dev/null | grep -q "ok installed" \
         && [ -z "${Kokkos_ROOT:-}" ]; then
        echo "== kokkos: skipped (no Kokkos: scripts/setup.sh --with-kokkos, or set Kokkos_ROOT)"; continue
      fi
      echo "== $preset: configure, build, test"
      cmake --workflow --preset "$preset" || failed+=("$preset") ;;
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
