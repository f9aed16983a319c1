// Bare-RNG floor: the same count of normals as the baseline model, drawn the same way (Philox4x32-10 + Box-Muller, 16 lanes).
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/philox_stream.h"

namespace {
constexpr int kLanes = 16;

// Draws `normals_per_period` normals per trajectory-period for `periods`
// periods of trajectories [0, n), four normals per Philox call, and sums them
// so the compiler cannot drop the work.
double draw(uint64_t n, int periods, int normals_per_period, int threads) {
  const int calls = (normals_per_period + 3) / 4;
  double total = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64) reduction(+ : total)
  for (int64_t b = 0; b < static_cast<int64_t>(n / kLanes); ++b) {
    const uint64_t first = static_cast<uint64_t>(b) * kLanes;
    float acc[kLanes] = {};
    for (int k = 0; k < periods; ++k)
      for (int c = 0; c < calls; ++c) {
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) {
          const chipcast::TrajectoryHalves t = chipcast::trajectory_halves(first, l);
          const chipcast::Words4 w = chipcast::philox_words(2026, t.lo, t.hi, static_cast<uint32_t>(k), c);
          float z0, z1, z2, z3;
          chipcast::box_muller(w.w0, w.w1, z0, z1);
          chipcast::box_muller(w.w2, w.w3, z2, z3);
          acc[l] += z0 + z1 + z2 + z3;
        }
      }
    for (int l = 0; l < kLanes; ++l) total += acc[l];
  }
  return total;
}
}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : omp_get_max_threads();
  const int periods = 136;           // 2026-2060 at dt = 0.25
  const int normals_per_period = 8;  // ~1,100 normals per trajectory, as in the issue
  const auto t0 = std::chrono::steady_clock::now();
  const double sum = draw(n, periods, normals_per_period, threads);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double normals = static_cast<double>(n) * periods * normals_per_period;
  std::printf(
      "bare_rng trajectories=%llu threads=%d normals=%.3e seconds=%.3f normals_per_s=%.3e "
      "trajectories_per_s=%.3e (checksum %.3g)\n",
      static_cast<unsigned long long>(n), threads, normals, s, normals / s, n / s, sum / normals);
}
