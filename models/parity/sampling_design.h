// The sampling design: each trajectory's parameter uniforms (Latin hypercube, copula) and values.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/distributions.h"
#include "kernels/macros.h"
#include "kernels/philox_stream.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// The four Philox words of (period, slot) for every lane, as w[word][lane].
template <int L>
CC_FUNCTION void philox_lanes(uint64_t seed, uint64_t first, uint32_t period, uint32_t slot, uint32_t (&w)[4][L]) {
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    const TrajectoryHalves t = trajectory_halves(first, l);
    const Words4 x = philox_words(seed, t.lo, t.hi, period, slot);
    w[0][l] = x.w0;
    w[1][l] = x.w1;
    w[2][l] = x.w2;
    w[3][l] = x.w3;
  }
}

// Counter period values reserved for the Latin-hypercube permutations
// (period kLatinPeriodBase + parameter index), far above any simulated period.
constexpr uint32_t kLatinPeriodBase = 0xF0000000u;

// A pseudo-random permutation of [0, n) for parameter `index`: a 4-round
// Feistel network on the smallest even-bit power of two >= n, keyed by the
// seed through Philox, with cycle-walking back into [0, n). Integer-only, so
// every backend computes the same permutation.
CC_FUNCTION uint64_t latin_permute(uint64_t seed, int index, uint64_t n, uint64_t t) {
  int half_bits = 1;
  while ((uint64_t{1} << (2 * half_bits)) < n) ++half_bits;
  const uint64_t mask = (uint64_t{1} << half_bits) - 1;
  uint64_t x = t;
  do {
    uint64_t left = x >> half_bits, right = x & mask;
    for (uint32_t round = 0; round < 4; ++round) {
      const Words4 f = philox_words(seed, static_cast<uint32_t>(right), static_cast<uint32_t>(right >> 32),
                                    kLatinPeriodBase + static_cast<uint32_t>(index), round);
      const uint64_t mixed = left ^ ((uint64_t{f.w0} | (uint64_t{f.w1} << 32)) & mask);
      left = right;
      right = mixed;
    }
    x = (left << half_bits) | right;
  } while (x >= n);
  return x;
}

// Standard normal CDF (the copula's way back to uniforms).
CC_FUNCTION double normal_cdf(double z) { return 0.5 * erfc(-z * 0.70710678118654752440); }

// The uniforms of every parameter of the lanes' trajectories: one Philox word
// per parameter (word index % 4 of slot index / 4, period kParameterPeriod -
// stream), then the sampling design's transformations (Latin hypercube, copula).
template <int L>
CC_FUNCTION void parameter_uniforms(const ModelParams& p, uint64_t first, double (&u)[kMaxParams][L]) {
  const uint64_t seed = p.seed;
  const SamplingDesign& design = p.design;
  int cached_slot = -1;
  uint32_t cached_stream = 0;
  uint32_t w[4][L];
  for (int i = 0; i < kMaxParams; ++i) {
    if (p.params[i].kind == DistKind::fixed) continue;
    const int slot = i / 4;
    const uint32_t stream = design.stream[i];
    if (slot != cached_slot || stream != cached_stream) {
      philox_lanes<L>(seed, first, kParameterPeriod - stream, static_cast<uint32_t>(slot), w);
      cached_slot = slot;
      cached_stream = stream;
    }
    CC_SIMD
    for (int l = 0; l < L; ++l) u[i][l] = uniform_open(w[i % 4][l]);
  }
  if (design.latin) {
    // Stratum perm(t) of N, jittered uniformly inside it by the stream's uniform.
    const double inv_n = 1.0 / static_cast<double>(design.latin_n);
    for (int i = 0; i < kMaxParams; ++i) {
      if (p.params[i].kind == DistKind::fixed) continue;
      for (int l = 0; l < L; ++l) {
        const uint64_t t = (first + l) % design.latin_n;
        u[i][l] = (static_cast<double>(latin_permute(seed ^ (uint64_t{design.stream[i]} << 56), i, design.latin_n, t)) +
                   u[i][l]) *
                  inv_n;
      }
    }
  }
  const int nc = design.num_correlated;
  if (nc > 0) {
    double z[kMaxCorrelated][L];
    for (int a = 0; a < nc; ++a) {
      normal_quantile_lanes<L>(u[design.corr_index[a]], z[a]);
    }
    for (int a = 0; a < nc; ++a) {
      const int i = design.corr_index[a];
      CC_SIMD
      for (int l = 0; l < L; ++l) {
        double c = 0.0;
        for (int b2 = 0; b2 <= a; ++b2) c += design.chol[a][b2] * z[b2][l];
        // Keep the uniform strictly inside (0, 1) like every other.
        const double v = normal_cdf(c);
        u[i][l] = v < 1e-300 ? 1e-300 : (v > 1.0 - 1.1e-16 ? 1.0 - 1.1e-16 : v);
      }
    }
  }
}

// Every parameter of the lanes' trajectories, by inverse CDF of its uniform.
template <int L>
CC_FUNCTION void draw_all_parameters(const ModelParams& p, uint64_t first, double (&v)[kMaxParams][L]) {
  parameter_uniforms<L>(p, first, v);  // v holds the uniforms, then the values
  for (int i = 0; i < kMaxParams; ++i) {
    const Dist& d = p.params[i];
    if (d.kind == DistKind::fixed) {
      CC_SIMD
      for (int l = 0; l < L; ++l) v[i][l] = d.p0;
    } else {
      double u[L];
      CC_SIMD
      for (int l = 0; l < L; ++l) u[l] = v[i][l];
      dist_quantile_lanes<L>(d, p.tables, u, v[i]);
    }
  }
}

}  // namespace chipcast::parity
