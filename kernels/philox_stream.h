// Counter-based random numbers: Random123 Philox4x32-10 keyed by the seed, counter (trajectory, period, slot).
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/simd_math.h"

#if CHIPCAST_HIP
// Random123 has no HIP branch of its own: describe hipcc to it here.
#ifndef R123_USE_SSE
#define R123_USE_SSE 0
#endif
#ifndef R123_USE_AES_NI
#define R123_USE_AES_NI 0
#endif
#ifndef R123_CUDA_DEVICE
#define R123_CUDA_DEVICE __host__ __device__
#endif
#endif
#include <Random123/philox.h>
#include <Random123/uniform.hpp>

namespace chipcast {

// Four 32-bit words from one Philox call, kept as scalars so that host lane
// loops vectorise (arrays of structs inside `omp simd` loops do not).
struct Words4 {
  uint32_t w0, w1, w2, w3;
};

// The period value reserved for the once-per-trajectory parameter draws
// (and kParameterPeriod - s for a sensitivity design's alternative stream s;
// sampling_design.h reserves kLatinPeriodBase + i, from 0xF0000000, for the
// Latin-hypercube permutations).
constexpr uint32_t kParameterPeriod = 0xFFFFFFFFu;
// The period value reserved for a trajectory's calibration uniform u_i
// (MODEL-v2.md section 8: accepted when u_i < L_i): word 0 of slot 0. It lies
// below every Latin period and far above any simulated period, so u_i is
// independent of everything else the trajectory draws.
constexpr uint32_t kAcceptancePeriod = 0xEFFFFFFFu;

// Draw slots within a period (each slot is one Philox call = four words).
// The layout is fixed whatever the scenario, so that two scenarios compared
// with common random numbers consume the same numbers for the same purpose.
constexpr uint32_t kSlotNormalsA = 0;   // Z1,Z2,Z3 domestic; Z1 foreign
constexpr uint32_t kSlotNormalsB = 1;   // Z2,Z3 foreign; regime uniform; "any shock" uniform
constexpr uint32_t kSlotExtraBase = 2;  // event and shock uniforms, 4 per slot

// value = Philox4x32-10(counter = {trajectory lo, trajectory hi, period, slot},
//                       key = {seed lo, seed hi}): a pure function, no state.
CC_FUNCTION Words4 philox_words(uint64_t seed, uint64_t trajectory, uint32_t period, uint32_t slot) {
  philox4x32_ctr_t ctr = {{static_cast<uint32_t>(trajectory), static_cast<uint32_t>(trajectory >> 32), period, slot}};
  philox4x32_key_t key = {{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  philox4x32_ctr_t out = philox4x32_R(10, ctr, key);
  return Words4{out.v[0], out.v[1], out.v[2], out.v[3]};
}

// The same with the trajectory index already split into 32-bit halves, for
// lane loops (64-bit lane arithmetic does not vectorise everywhere).
CC_FUNCTION Words4 philox_words(uint64_t seed, uint32_t trajectory_lo, uint32_t trajectory_hi, uint32_t period,
                                uint32_t slot) {
  philox4x32_ctr_t ctr = {{trajectory_lo, trajectory_hi, period, slot}};
  philox4x32_key_t key = {{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  philox4x32_ctr_t out = philox4x32_R(10, ctr, key);
  return Words4{out.v[0], out.v[1], out.v[2], out.v[3]};
}

// Halves of trajectory first + l without 64-bit lane arithmetic.
struct TrajectoryHalves {
  uint32_t lo, hi;
};
CC_FUNCTION TrajectoryHalves trajectory_halves(uint64_t first, int l) {
  const uint32_t base_lo = static_cast<uint32_t>(first);
  const uint32_t lo = base_lo + static_cast<uint32_t>(l);
  return TrajectoryHalves{lo, static_cast<uint32_t>(first >> 32) + (lo < base_lo ? 1u : 0u)};
}

CC_FUNCTION uint32_t word_at(const Words4& w, int i) { return i == 0 ? w.w0 : i == 1 ? w.w1 : i == 2 ? w.w2 : w.w3; }

// Uniform in the open interval (0, 1) with 32 bits, for inverse-CDF sampling.
CC_FUNCTION double uniform_open(uint32_t x) {
  return (static_cast<double>(x) + 0.5) * 2.3283064365386963e-10;  // 2^-32
}

// The integer form of the test "uniform_open(w) < p": it holds exactly when
// w < uniform_threshold(p), so a Bernoulli(p) decision compares the raw word
// with a precomputed threshold and gives the same answer as the double test.
// Derivation: (w + 0.5) 2^-32 < p  <=>  w < p 2^32 - 0.5  <=>  w < ceil(p 2^32 - 0.5)
// for integer w; p 2^32 - 0.5 is exact in double for p in [0, 1]. Result in
// [0, 2^32] (2^32: every word passes; 0, also for NaN p: none does).
CC_FUNCTION uint64_t uniform_threshold(double p) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return uint64_t{1} << 32;
  return static_cast<uint64_t>(ceil(p * 4294967296.0 - 0.5));
}

// uniform_open(w) < p, given t = uniform_threshold(p).
CC_FUNCTION bool word_below(uint32_t w, uint64_t t) { return static_cast<uint64_t>(w) < t; }

// Uniform in (0, 1] as float (Random123's u01: never 0, so log() is finite).
CC_FUNCTION float uniform_float(uint32_t x) { return r123::u01<float>(x); }

// Box-Muller on two words: two independent standard normals (float).
// Written with sinf/cosf of the float angle pi * x rather than Random123's
// boxmuller(), whose sincosf call keeps the host compiler from vectorising
// across lanes, and whose device branch uses sincospif: the GPU computes the
// same float angle and its sincosf, so host and device differ only by the
// functions' last-place rounding. (With sincospif, i.e. an exact angle, 10 of
// 100,000 trajectories' crossing times moved by more than 1e-4 years against
// the host's; with the same angle 4 do, measured on the CPU by emulating each.)
CC_FUNCTION void box_muller(uint32_t a, uint32_t b, float& z0, float& z1) {
  const float r = sqrtf(-2.0f * logf(r123::u01<float>(b)));
  const float x = r123::uneg11<float>(a);
  const float angle = 3.14159265358979323846f * x;
#if CHIPCAST_DEVICE_PASS
  float s, c;
  sincosf(angle, &s, &c);
#else
  const float s = sinf(angle);
  const float c = cosf(angle);
#endif
  z0 = r * s;
  z1 = r * c;
}

}  // namespace chipcast
