// Bare-RNG floor on a GPU: the baseline's count of normals (136 periods x 8) per trajectory, one trajectory per thread.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels/philox_stream.h"

namespace {

__global__ void draw(uint64_t first, uint64_t n, int periods, int calls, float* out) {
  const uint64_t i = first + blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x;
  if (i >= first + n) return;
  const chipcast::TrajectoryHalves t = chipcast::trajectory_halves(i, 0);
  float acc = 0.0f;
  for (int k = 0; k < periods; ++k)
    for (int c = 0; c < calls; ++c) {
      const chipcast::Words4 w = chipcast::philox_words(2026, t.lo, t.hi, static_cast<uint32_t>(k), c);
      float z0, z1, z2, z3;
      chipcast::box_muller(w.w0, w.w1, z0, z1);
      chipcast::box_muller(w.w2, w.w3, z2, z3);
      acc += z0 + z1 + z2 + z3;
    }
  // One float per block survives so the work cannot be dropped.
  if (acc == 12345.678f) out[0] = acc;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000000ull;
  const int periods = 136, normals_per_period = 8, calls = normals_per_period / 4;
  float* out = nullptr;
  cudaMalloc(&out, sizeof(float));
  const uint64_t batch = uint64_t{1} << 26;
  cudaDeviceSynchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t first = 0; first < n; first += batch) {
    const uint64_t m = n - first < batch ? n - first : batch;
    draw<<<static_cast<unsigned>((m + 255) / 256), 256>>>(first, m, periods, calls, out);
  }
  const cudaError_t err = cudaDeviceSynchronize();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (err != cudaSuccess) {
    std::fprintf(stderr, "bench_rng_gpu: %s\n", cudaGetErrorString(err));
    return 1;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const double normals = static_cast<double>(n) * periods * normals_per_period;
  std::printf(
      "bare_rng_gpu device=\"%s\" trajectories=%llu normals=%.3e seconds=%.3f normals_per_s=%.3e "
      "trajectories_per_s=%.3e\n",
      prop.name, static_cast<unsigned long long>(n), normals, s, normals / s, n / s);
  cudaFree(out);
}
