#!/bin/bash
# Builds chipcast with the CUDA backend on a GPU machine that lacks our Debian libraries, then runs the GPU tests and the throughput benchmark.
#
# Usage, from the repository root:
#   backends/cuda/gpu_machine_check.sh DEBS_DIR [BUILD_DIR=build-cuda-gpu] [CUDA_ARCH=90] [TRAJECTORIES=100000000]
# DEBS_DIR holds the .deb files listed in backends/cuda/README.md ("Building where
# the Debian libraries are missing"); they are unpacked into BUILD_DIR/prefix
# with dpkg -x (never into /) and found through CMAKE_PREFIX_PATH.
set -euo pipefail
DEBS=${1:?"usage: $0 DEBS_DIR [BUILD_DIR] [CUDA_ARCH] [TRAJECTORIES]"}
BUILD=${2:-build-cuda-gpu}
ARCH=${3:-90}
N=${4:-100000000}

PREFIX=$(realpath -m "$BUILD/prefix")
mkdir -p "$PREFIX"
for d in "$DEBS"/*.deb; do dpkg -x "$d" "$PREFIX"; done
# Shared libraries from the prefix (fmt, toml++, OpenSSL) at run time.
export LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== configure and build ($(nproc) jobs)"
start=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIPCAST_ENABLE_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_PREFIX_PATH="$PREFIX/usr"
cmake --build "$BUILD" -j"$(nproc)"
echo "build took $(( $(date +%s) - start )) s"

echo "== chipcast info"
"$BUILD/chipcast" info

echo "== GPU tests"
"$BUILD/tests/test_gpu_backend"
echo "== the model's statistical tests on every runnable backend (openmp and cuda)"
"$BUILD/tests/test_model_statistics"
echo "== the GPU path on the CPU through Thrust's OMP system"
"$BUILD/tests/test_thrust_omp_path"

echo "== throughput, baseline scenario, $N trajectories (after a warm-up of 2^16: allocations, module load)"
CHIPCAST_GPU_PROFILE=1 "$BUILD/bench/bench_throughput" configs/baseline.toml "$N" cuda 0 65536
