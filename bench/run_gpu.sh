#!/usr/bin/env bash
# GPU benchmarks for bench/RESULTS.md, on a machine with an NVIDIA GPU: builds the cuda preset's
# code (with the Debian libraries unpacked from DEBS_DIR when they are not installed), runs the GPU
# tests, then baseline throughput at 1e8 and 1e9 trajectories and the bare-RNG floor.
# Usage: bench/run_gpu.sh DEBS_DIR [BUILD_DIR=build-gpu] [CUDA_ARCH=90]
set -euo pipefail
cd "$(dirname "$0")/.."
debs=${1:?usage: bench/run_gpu.sh DEBS_DIR [BUILD_DIR] [CUDA_ARCH]}
build=${2:-build-gpu}
arch=${3:-90}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nvcc --version | tail -1
bash backends/cuda/gpu_machine_check.sh "$debs" "$build" "$arch" 100000000
export LD_LIBRARY_PATH="$(realpath "$build")/prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "== 1e9 baseline trajectories, end to end (chipcast run)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" env CHIPCAST_GPU_PROFILE=1 \
  "$build/chipcast" run configs/baseline.toml -n 1000000000 --backend cuda --quiet --out "$build/out-1e9"
grep -E '"seconds"|p_parity_by_horizon"' "$build/out-1e9/summary.json"
for n in 100000000 1000000000; do "$build/bench/bench_rng_gpu" "$n"; done
