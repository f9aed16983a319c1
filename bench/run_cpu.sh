#!/usr/bin/env bash
# CPU benchmarks for bench/RESULTS.md: baseline throughput at 1e5..1e7 trajectories and the
# bare-RNG floor with the same count of normals, on 1 and all threads.
# Usage: bench/run_cpu.sh [BUILD_DIR]   (a Release build with -DCHIPCAST_BUILD_BENCH=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=$(nproc)
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $threads cores"
for n in 100000 1000000 10000000; do
  "$build/bench/bench_throughput" configs/baseline.toml "$n" openmp "$threads"
done
"$build/bench/bench_throughput" configs/baseline.toml 1000000 openmp 1
for n in 1000000 10000000; do
  "$build/bench/bench_rng" "$n" "$threads"
done
"$build/bench/bench_rng" 1000000 1
