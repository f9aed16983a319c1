// The parity model v1 (MODEL.md) for a block of L trajectories ("lanes"): init, one period, finish.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/distributions.h"
#include "kernels/macros.h"
#include "kernels/philox_stream.h"
#include "kernels/simd_math.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// min() by a select: vectorises, unlike fminf, and keeps a NaN in `a` visible.
CC_FUNCTION float min_of(float a, float b) { return b < a ? b : a; }

// NaN test on the bit pattern (vectorises where `x != x` may not).
CC_FUNCTION bool is_nan_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return (u & 0x7fffffffu) > 0x7f800000u;
}

// Per-lane state in structure-of-arrays form: on the host the lanes of a
// block are computed together by `omp simd` loops (L = 16); a GPU thread runs
// one trajectory (L = 1). Every lane computes the same instructions whatever
// its position, so a trajectory's result never depends on its block, batch,
// thread or device. Blocks are always computed full; a partial block is
// padded and the padding lanes are simply not recorded.
template <int L>
struct LaneState {
  uint64_t first = 0;  // trajectory index of lane 0

  // Per-trajectory constants derived from the drawn parameters (per bloc).
  float drift_c[kNumBlocs][L];      // wafer_growth * dt
  float vol_c[kNumBlocs][L];        // wafer_vol * sqrt(dt)
  float log_cap[kNumBlocs][L];      // log wafer_cap
  float log_die_rate[kNumBlocs][L]; // log(12 * dt * dies_per_wafer)
  float yield_max[kNumBlocs][L];
  float yield_noise[kNumBlocs][L];
  float log_perf0[kNumBlocs][L];
  float perf_growth[kNumBlocs][L];
  float drift_h[kNumBlocs][L];      // hbm_growth * dt
  float vol_h[kNumBlocs][L];        // hbm_vol * sqrt(dt)
  float log_hpc0[kNumBlocs][L];     // log hbm_per_chip0
  float hpc_growth[kNumBlocs][L];
  float log_pack_dt[kNumBlocs][L];  // log(packaging0 * dt)
  float pack_growth[kNumBlocs][L];
  // Regime effects per regime and bloc: adj * dt, learning_mult, log hbm_mult.
  float eff_adj_dt[kMaxRegimes][kNumBlocs][L];
  float eff_decay[kMaxRegimes][kNumBlocs][L];  // exp(-learning_rate * learning_mult * dt)
  float eff_log_hbm[kMaxRegimes][kNumBlocs][L];
  // Per-period occurrence probability p_k = 1 - exp(-rate_k dt) of shock k;
  // with tail_k = P(some shock j >= k occurs) = 1 - prod_{j>=k} (1 - p_j), the
  // probability that any shock occurs (tail_0) and shock k's probability given
  // that none before it did and some from k on does (p_k / tail_k; 1 for the
  // last), all as uniform_threshold()s of the raw Philox words.
  uint64_t thr_shock[kMaxShocks][L];       // p_k
  uint64_t thr_shock_cond[kMaxShocks][L];  // p_k / tail_k
  uint64_t thr_shock_any[L];               // tail_0
  uint32_t w_any[L];  // this period's "any shock" word (slot B, word 3)

  // Dynamic state.
  int32_t regime[L];
  float log_c[kNumBlocs][L];
  float gap[kNumBlocs][L];  // (yield_max - yield0) * exp(-learning_rate * tau)
  float log_h[kNumBlocs][L];
  float jump[kNumBlocs][L];  // shock jumps of the current period
  // Effects of each lane's current regime (selected once per period, so the
  // bloc loop needs no gathers).
  float cur_adj_dt[kNumBlocs][L];
  float cur_decay[kNumBlocs][L];
  float cur_log_hbm[kNumBlocs][L];

  // Crossing detection per metric.
  float prev_log_r[kNumMetrics][L];
  int32_t prev_zero[kNumMetrics][L];
  int32_t run[kNumMetrics][L];
  int32_t crossed[kNumMetrics][L];
  int32_t cand_bin[kNumMetrics][L];
  float cand_t[kNumMetrics][L];

  // Outputs of the last period, read by record_period().
  int32_t bin[kNumSeries][L];     // level bin per series (metric*3 + {ratio, dom, for}); kNanLevelBin = NaN
  int32_t new_cross[kNumMetrics][L];  // 1 if the crossing was confirmed this period
};

// The four Philox words of (period, slot) for every lane, as w[word][lane].
template <int L>
CC_FUNCTION void philox_lanes(uint64_t seed, uint64_t first, uint32_t period, uint32_t slot, uint32_t (&w)[4][L]) {
  CC_SIMD for (int l = 0; l < L; ++l) {
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
    CC_SIMD for (int l = 0; l < L; ++l) u[i][l] = uniform_open(w[i % 4][l]);
  }
  if (design.latin) {
    // Stratum perm(t) of N, jittered uniformly inside it by the stream's uniform.
    const double inv_n = 1.0 / static_cast<double>(design.latin_n);
    for (int i = 0; i < kMaxParams; ++i) {
      if (p.params[i].kind == DistKind::fixed) continue;
      for (int l = 0; l < L; ++l) {
        const uint64_t t = (first + l) % design.latin_n;
        u[i][l] = (static_cast<double>(latin_permute(seed ^ (uint64_t{design.stream[i]} << 56), i, design.latin_n, t)) +
                   u[i][l]) * inv_n;
      }
    }
  }
  const int nc = design.num_correlated;
  if (nc > 0) {
    double z[kMaxCorrelated][L];
    for (int a = 0; a < nc; ++a) {
      const int i = design.corr_index[a];
      CC_SIMD for (int l = 0; l < L; ++l) z[a][l] = normal_quantile(u[i][l]);
    }
    for (int a = 0; a < nc; ++a) {
      const int i = design.corr_index[a];
      CC_SIMD for (int l = 0; l < L; ++l) {
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
      CC_SIMD for (int l = 0; l < L; ++l) v[i][l] = d.p0;
    } else {
      double u[L];
      CC_SIMD for (int l = 0; l < L; ++l) u[l] = v[i][l];
      dist_quantile_lanes<L>(d, p.tables, u, v[i]);
    }
  }
}

// The current regime's effects for every lane. Called only when some lane's
// regime changed: the effect tables are indexed by a run-time regime, which a
// GPU keeps in (slow) local memory, so the period loop reads only cur_*.
template <int L>
CC_FUNCTION void select_effects(const ModelParams& p, LaneState<L>& s) {
  CC_UNROLL for (int b = 0; b < kNumBlocs; ++b) {
    CC_SIMD for (int l = 0; l < L; ++l) {
      s.cur_adj_dt[b][l] = s.eff_adj_dt[0][b][l];
      s.cur_decay[b][l] = s.eff_decay[0][b][l];
      s.cur_log_hbm[b][l] = s.eff_log_hbm[0][b][l];
    }
    for (int r = 1; r < p.num_regimes; ++r) {
      CC_SIMD for (int l = 0; l < L; ++l) {
        const bool here = s.regime[l] == r;
        s.cur_adj_dt[b][l] = here ? s.eff_adj_dt[r][b][l] : s.cur_adj_dt[b][l];
        s.cur_decay[b][l] = here ? s.eff_decay[r][b][l] : s.cur_decay[b][l];
        s.cur_log_hbm[b][l] = here ? s.eff_log_hbm[r][b][l] : s.cur_log_hbm[b][l];
      }
    }
  }
}

template <int L>
CC_SEPARATE void init_lanes(const ModelParams& p, uint64_t first, LaneState<L>& s) {
  s.first = first;
  const double sqdt = sqrt(p.dt);
  double all[kMaxParams][L];
  draw_all_parameters<L>(p, first, all);
  CC_UNROLL for (int b = 0; b < kNumBlocs; ++b) {
    const double (*v)[L] = &all[bloc_param_index(b, 0)];
    CC_SIMD for (int l = 0; l < L; ++l) {
      s.drift_c[b][l] = static_cast<float>(v[kWaferGrowth][l] * p.dt);
      s.vol_c[b][l] = static_cast<float>(v[kWaferVol][l] * sqdt);
      s.log_cap[b][l] = static_cast<float>(log(v[kWaferCap][l]));
      s.log_die_rate[b][l] = static_cast<float>(log(12.0 * p.dt * v[kDiesPerWafer][l]));
      // MODEL.md: a yield_max drawn below yield0 is taken as yield0.
      s.yield_max[b][l] = static_cast<float>(v[kYieldMax][l] < v[kYield0][l] ? v[kYield0][l] : v[kYieldMax][l]);
      s.yield_noise[b][l] = static_cast<float>(v[kYieldNoise][l]);
      s.log_perf0[b][l] = static_cast<float>(log(v[kPerf0][l]));
      s.perf_growth[b][l] = static_cast<float>(v[kPerfGrowth][l]);
      s.drift_h[b][l] = static_cast<float>(v[kHbmGrowth][l] * p.dt);
      s.vol_h[b][l] = static_cast<float>(v[kHbmVol][l] * sqdt);
      s.log_hpc0[b][l] = static_cast<float>(log(v[kHbmPerChip0][l]));
      s.hpc_growth[b][l] = static_cast<float>(v[kHbmPerChipGrowth][l]);
      s.log_pack_dt[b][l] = static_cast<float>(log(v[kPackaging0][l] * p.dt));
      s.pack_growth[b][l] = static_cast<float>(v[kPackagingGrowth][l]);
      s.log_c[b][l] = static_cast<float>(log(v[kWafers0][l]));
      s.log_h[b][l] = static_cast<float>(log(v[kHbm0][l]));
      s.gap[b][l] = s.yield_max[b][l] - static_cast<float>(v[kYield0][l]);
    }
    for (int r = 0; r < p.num_regimes; ++r) {
      const double* adj = all[effect_param_index(r, b, kWaferGrowthAdj)];
      const double* learn = all[effect_param_index(r, b, kLearningMult)];
      const double* hbm = all[effect_param_index(r, b, kHbmMult)];
      CC_SIMD for (int l = 0; l < L; ++l) {
        s.eff_adj_dt[r][b][l] = static_cast<float>(adj[l] * p.dt);
        s.eff_decay[r][b][l] = static_cast<float>(exp(-v[kLearningRate][l] * learn[l] * p.dt));
        s.eff_log_hbm[r][b][l] = static_cast<float>(log(hbm[l]));
      }
    }
  }
  // Shock probabilities: computed in double, kept as word thresholds.
  double tail[L];
  CC_SIMD for (int l = 0; l < L; ++l) tail[l] = 0.0;
  for (int k = p.num_shocks - 1; k >= 0; --k) {
    const double* rate = all[shock_rate_index(k)];
    for (int l = 0; l < L; ++l) {
      // tail[l] holds tail_{k+1} here, then tail_k.
      const double p_k = -expm1(-rate[l] * p.dt);
      const double tail_k = 1.0 - (1.0 - tail[l]) * (1.0 - p_k);
      s.thr_shock[k][l] = uniform_threshold(p_k);
      s.thr_shock_cond[k][l] = uniform_threshold(k == p.num_shocks - 1 ? 1.0 : p_k / tail_k);
      tail[l] = tail_k;
    }
  }
  for (int l = 0; l < L; ++l) s.thr_shock_any[l] = uniform_threshold(tail[l]);
  CC_SIMD for (int l = 0; l < L; ++l) {
    s.regime[l] = p.initial_regime;
    for (int m = 0; m < kNumMetrics; ++m) {
      s.prev_log_r[m][l] = 0.0f;
      s.prev_zero[m][l] = 0;
      s.run[m][l] = 0;
      s.crossed[m][l] = 0;
      s.cand_bin[m][l] = 0;
      s.cand_t[m][l] = 0.0f;
    }
  }
  select_effects<L>(p, s);
}

// Extra-slot uniforms: event e uses index e; shock k uses kMaxEvents + k for
// its occurrence and kMaxEvents + kMaxShocks + k for its loss (read only when
// it occurs), index i being word i%4 of slot
// kSlotExtraBase + i/4.
CC_FUNCTION constexpr int event_uniform_index(int e) { return e; }
CC_FUNCTION constexpr int shock_uniform_index(int k) { return kMaxEvents + k; }
CC_FUNCTION constexpr int shock_loss_uniform_index(int k) { return kMaxEvents + kMaxShocks + k; }

// The shocks of lane l in a period where at least one shock occurs (the
// lane's "any shock" event fired): shock by shock conditionally, shock k
// occurring with probability p_k / tail_k while none before it has occurred,
// and p_k after. Occurrence words come four to a slot, loss words from other
// slots (drawn only when needed). Writes the lane's jumps log(1 - loss).
// Out of line on a GPU (CC_COLD): it runs in a few percent of the periods.
template <int L>
CC_COLD void lane_shocks(const ModelParams& p, uint32_t period, int l, LaneState<L>& s) {
  const TrajectoryHalves t = trajectory_halves(s.first, l);
  const uint64_t seed = p.seed;
  bool occurred = false;
  float jump_dom = 0.0f, jump_for = 0.0f;
  for (int g = 0; 4 * g < p.num_shocks; ++g) {
    const uint32_t slot = kSlotExtraBase + static_cast<uint32_t>(shock_uniform_index(4 * g) / 4);
    const uint32_t loss_slot = kSlotExtraBase + static_cast<uint32_t>(shock_loss_uniform_index(4 * g) / 4);
    const Words4 w = philox_words(seed, t.lo, t.hi, period, slot);
    Words4 lw{0, 0, 0, 0};
    bool have_loss_words = false;
    for (int k2 = 4 * g; k2 < 4 * g + 4 && k2 < p.num_shocks; ++k2) {
      const uint64_t thr = occurred ? s.thr_shock[k2][l] : s.thr_shock_cond[k2][l];
      if (!word_below(word_at(w, shock_uniform_index(k2) % 4), thr)) continue;
      occurred = true;
      if (!have_loss_words) {
        lw = philox_words(seed, t.lo, t.hi, period, loss_slot);
        have_loss_words = true;
      }
      const double loss = dist_quantile(p.shocks[k2].loss, p.tables,
                                        uniform_open(word_at(lw, shock_loss_uniform_index(k2) % 4)));
      const float j = static_cast<float>(log1p(-loss));
      jump_dom += p.shocks[k2].bloc == kDomestic ? j : 0.0f;
      jump_for += p.shocks[k2].bloc == kForeign ? j : 0.0f;
    }
  }
  s.jump[kDomestic][l] = jump_dom;
  s.jump[kForeign][l] = jump_for;
}

// Poisson shocks of period `period`: permanent jumps log C += log(1 - loss).
// Shocks are independent Bernoulli(p_k) per period. They are sampled exactly
// but cheaply: one word (slot B, word 3, drawn with the normals) decides
// whether any shock occurs (probability tail_0); only for the few lanes where
// one does are the shocks drawn, one lane at a time (lane_shocks), so a block
// pays for the rare shock only in the lanes that have one.
template <int L>
CC_SEPARATE void shock_jumps(const ModelParams& p, uint32_t period, LaneState<L>& s) {
  int32_t any = 0;
  int32_t forced[L];
  CC_SIMD for (int l = 0; l < L; ++l) {
    s.jump[kDomestic][l] = 0.0f;
    s.jump[kForeign][l] = 0.0f;
    forced[l] = word_below(s.w_any[l], s.thr_shock_any[l]) ? 1 : 0;
    any |= forced[l];
  }
  if (!any) return;
  for (int l = 0; l < L; ++l)
    if (forced[l]) lane_shocks<L>(p, period, l, s);
}

// One period k for every lane: regime update, events, shocks, the seven
// steps for both blocs, the three metrics, bins and crossing detection.
template <int L>
CC_SEPARATE void step_lanes(const ModelParams& p, int k, LaneState<L>& s) {
  const uint32_t period = static_cast<uint32_t>(k);
  const uint64_t first = s.first;  // locals, so lane loops need no 64-bit loads
  const uint64_t seed = p.seed;
  const int nreg = p.num_regimes;

  // The period is computed as three kinds of lane loops (normals; each bloc;
  // each metric): small loop bodies are what the host compiler vectorises.
  float z[kNumBlocs][3][L];
  uint32_t w_regime[L];
  CC_SIMD for (int l = 0; l < L; ++l) {
    const TrajectoryHalves th = trajectory_halves(first, l);
    const Words4 wa = philox_words(seed, th.lo, th.hi, period, kSlotNormalsA);
    const Words4 wb = philox_words(seed, th.lo, th.hi, period, kSlotNormalsB);
    float z0, z1, z2, z3, z4, z5;
    box_muller(wa.w0, wa.w1, z0, z1);
    box_muller(wa.w2, wa.w3, z2, z3);
    box_muller(wb.w0, wb.w1, z4, z5);
    z[kDomestic][0][l] = z0;
    z[kDomestic][1][l] = z1;
    z[kDomestic][2][l] = z2;
    z[kForeign][0][l] = z3;
    z[kForeign][1][l] = z4;
    z[kForeign][2][l] = z5;
    w_regime[l] = wb.w2;
    s.w_any[l] = wb.w3;
  }


  int32_t changed = 0;  // did any lane change regime this period?
  // Regime: walk destinations in name order with one uniform (slot B, word 2).
  // The outer loop is over source regimes so that every probability is a
  // broadcast constant inside the lane loop (no gathers).
  if (nreg > 1) {
    int32_t next[L];
    CC_SIMD for (int l = 0; l < L; ++l) next[l] = s.regime[l];
    for (int from = 0; from < nreg; ++from) {
      double cum = 0.0;
      for (int j = 0; j < nreg; ++j) {
        if (j == from || p.q[from][j] <= 0.0) continue;
        cum += p.q[from][j];
        // Lanes in `from` whose uniform falls below the running sum, and that
        // have not picked an earlier destination, move to j. The uniform test
        // is on the raw word, as w <= thr - 1 (a 32-bit compare); no word
        // passes a zero threshold.
        const uint64_t thr = uniform_threshold(cum);
        if (thr == 0) continue;
        const uint32_t last = static_cast<uint32_t>(thr - 1);
        CC_SIMD for (int l = 0; l < L; ++l) {
          const bool pick = (s.regime[l] == from) & (next[l] == from) & (w_regime[l] <= last);
          next[l] = pick ? j : next[l];
        }
      }
    }
    CC_SIMD for (int l = 0; l < L; ++l) {
      changed |= next[l] != s.regime[l] ? 1 : 0;
      s.regime[l] = next[l];
    }
  }
  // Scheduled events: after the Markov step, the event wins.
  for (int e = 0; e < p.num_events; ++e) {
    if (p.events[e].period != k) continue;
    const uint64_t thr = uniform_threshold(p.events[e].probability);
    const int target = p.events[e].regime;
    const int ui = event_uniform_index(e);
    CC_SIMD for (int l = 0; l < L; ++l) {
      const TrajectoryHalves t = trajectory_halves(first, l);
      const uint32_t w = word_at(philox_words(seed, t.lo, t.hi, period, kSlotExtraBase + ui / 4), ui % 4);
      const int to = word_below(w, thr) ? target : s.regime[l];
      changed |= to != s.regime[l] ? 1 : 0;
      s.regime[l] = to;
    }
  }
  shock_jumps<L>(p, period, s);

  const float dt = static_cast<float>(p.dt);
  const float t_k = static_cast<float>((k + 1) * p.dt);
  const float log_dt = logf(dt);
  const float log_thr = static_cast<float>(log(p.threshold));
  const int sub = p.sub_bins;
  const int sustain = p.sustain;

  if (changed) select_effects<L>(p, s);

  float log_metric[kNumMetrics][kNumBlocs][L];
  CC_UNROLL for (int b = 0; b < kNumBlocs; ++b) {
    CC_SIMD for (int l = 0; l < L; ++l) {
      // 1. Wafer capacity: drift (+ regime adjustment), volatility, shock jumps, ceiling.
      float lc = s.log_c[b][l] + s.drift_c[b][l] + s.cur_adj_dt[b][l] + s.vol_c[b][l] * z[b][0][l] + s.jump[b][l];
      lc = min_of(lc, s.log_cap[b][l]);
      s.log_c[b][l] = lc;
      // 2. Yield: the learning clock tau advances by learning_mult * dt, so the
      // gap yield_max - y = (yield_max - yield0) exp(-learning_rate tau) shrinks
      // by exp(-learning_rate learning_mult dt) per period (a per-trajectory
      // constant per regime); then logit-scale noise, skipped at 0 and 1.
      const float gap = s.gap[b][l] * s.cur_decay[b][l];
      s.gap[b][l] = gap;
      const float y = s.yield_max[b][l] - gap;
      const float x = logf(y / (1.0f - y)) + s.yield_noise[b][l] * z[b][1][l];
      // log logistic(x), stable for either sign of x
      const float log_y_noisy = min_of(x, 0.0f) - log1p_from_log(expf(-fabsf(x)));
      // Bitwise & (not &&) and selects keep the lane loop free of branches.
      const float log_y = ((y > 0.0f) & (y < 1.0f)) ? log_y_noisy : (y >= 1.0f ? 0.0f : -INFINITY);
      // 3. HBM supply and what this bloc may use this period.
      const float lh = s.log_h[b][l] + s.drift_h[b][l] + s.vol_h[b][l] * z[b][2][l];
      s.log_h[b][l] = lh;
      const float log_hbm_usable = lh + s.cur_log_hbm[b][l] + log_dt;
      // 4. HBM per chip and packaging capacity this period.
      const float log_hpc = s.log_hpc0[b][l] + s.hpc_growth[b][l] * t_k;
      const float log_pack = s.log_pack_dt[b][l] + s.pack_growth[b][l] * t_k;
      // 5.-6. Good dies, then the binding constraint (all in logs).
      const float log_good = lc + s.log_die_rate[b][l] + log_y;
      const float log_chips = min_of(min_of(log_good, log_hbm_usable - log_hpc), log_pack);
      // 7. The three metrics.
      log_metric[kUnits][b][l] = log_chips;
      log_metric[kCompute][b][l] = log_chips + s.log_perf0[b][l] + s.perf_growth[b][l] * t_k;
      log_metric[kMemory][b][l] = log_chips + log_hpc;
    }
  }

  CC_UNROLL for (int m = 0; m < kNumMetrics; ++m) {
    CC_SIMD for (int l = 0; l < L; ++l) {
      const float ld = log_metric[m][kDomestic][l];
      const float lf = log_metric[m][kForeign][l];
      // log 0 = -inf marks an empty bloc: both 0 is r = 0; foreign 0 alone is r = +inf.
      const bool dom_zero = ld == -INFINITY;
      const bool for_zero = lf == -INFINITY;
      const bool r_zero = dom_zero;
      const bool r_inf = (!dom_zero) & for_zero;
      const float lr = (r_zero | r_inf) ? 0.0f : ld - lf;
      // lr is NaN exactly when either level is, or both are +inf (written on
      // the levels: g++ does not vectorise a NaN test on the select's result).
      const bool nan = is_nan_bits(ld) | is_nan_bits(lf) | ((ld == INFINITY) & (lf == INFINITY));
      s.bin[m * kSeriesPerMetric + 0][l] = nan ? kNanLevelBin : level_bin(lr, r_zero, r_inf);
      s.bin[m * kSeriesPerMetric + 1][l] = level_bin(ld, dom_zero, ld == INFINITY);
      s.bin[m * kSeriesPerMetric + 2][l] = level_bin(lf, for_zero, lf == INFINITY);

      // Crossing: the first period starting a run of `sustain` periods with
      // r >= threshold, dated by log-interpolation between period ends.
      const bool above = (!nan) & (r_inf | ((!r_zero) & (lr >= log_thr)));
      const int run_before = s.run[m][l];
      const bool starts = above & (run_before == 0);
      const float prev_lr = s.prev_log_r[m][l];
      float frac = (log_thr - prev_lr) / (lr - prev_lr);
      frac = frac > 1.0f ? 1.0f : frac;
      frac = frac < 0.0f ? 0.0f : frac;  // unreachable in exact arithmetic: r_{k-1} < thr
      int j = static_cast<int>(ceilf(frac * sub)) - 1;
      j = j < 0 ? 0 : j;
      float t = static_cast<float>(k) * dt + dt * frac;
      int cbin = k * sub + j;
      // Special cases of MODEL.md: k = 0 -> T_0; r_{k-1} = 0 -> T_k; r_k = inf -> T_{k-1}.
      const bool prev_zero = s.prev_zero[m][l] != 0;
      cbin = prev_zero ? k * sub + sub - 1 : cbin;
      t = prev_zero ? static_cast<float>(k + 1) * dt : t;
      cbin = r_inf ? k * sub - 1 : cbin;
      t = r_inf ? static_cast<float>(k) * dt : t;
      cbin = k == 0 ? sub - 1 : cbin;
      t = k == 0 ? dt : t;
      s.cand_bin[m][l] = starts ? cbin : s.cand_bin[m][l];
      s.cand_t[m][l] = starts ? t : s.cand_t[m][l];
      const int run_now = above ? run_before + 1 : 0;
      s.run[m][l] = run_now;
      const bool confirm = above & (run_now == sustain) & (s.crossed[m][l] == 0);
      s.new_cross[m][l] = confirm ? 1 : 0;
      s.crossed[m][l] = s.crossed[m][l] | (confirm ? 1 : 0);
      s.prev_log_r[m][l] = lr;
      s.prev_zero[m][l] = r_zero ? 1 : 0;
    }
  }
}

// Hands lanes [0, n) of the last period's results to a sink; `base` is the
// batch-local index of lane 0, and i = base + lane below:
//   sink.level(k, series, i, bin)        (bin = kNanLevelBin for a NaN ratio)
//   sink.crossing(metric, i, bin, t)     (t: years since start_year)
template <int L, class Sink>
CC_FUNCTION void record_period(const LaneState<L>& s, int k, int n, int64_t base, Sink& sink) {
  CC_UNROLL for (int q = 0; q < kNumSeries; ++q)
    for (int l = 0; l < n; ++l) sink.level(k, q, base + l, s.bin[q][l]);
  CC_UNROLL for (int m = 0; m < kNumMetrics; ++m)
    for (int l = 0; l < n; ++l)
      if (s.new_cross[m][l]) sink.crossing(m, base + l, s.cand_bin[m][l], s.cand_t[m][l]);
}

// After the last period: every lane that never crossed is right-censored.
template <int L, class Sink>
CC_FUNCTION void record_censored(const LaneState<L>& s, int n, int64_t base, Sink& sink) {
  for (int l = 0; l < n; ++l)
    for (int m = 0; m < kNumMetrics; ++m)
      if (!s.crossed[m][l]) sink.censored(m, base + l);
}

// Runs trajectories [first, first + n) block by block, period-major: all
// blocks advance one period before the next, so the histograms of the current
// period stay in cache while every block adds to them. `states` holds
// ceil(n / L) blocks. `base` is the batch-local index of `first`.
template <int L, class Sink>
CC_FUNCTION void run_blocks(const ModelParams& p, uint64_t first, int64_t n, int64_t base,
                            LaneState<L>* states, Sink& sink) {
  const int64_t blocks = (n + L - 1) / L;
  for (int64_t b = 0; b < blocks; ++b) init_lanes<L>(p, first + b * L, states[b]);
  for (int k = 0; k < p.periods; ++k) {
    for (int64_t b = 0; b < blocks; ++b) {
      step_lanes<L>(p, k, states[b]);
      const int64_t left = n - b * L;
      record_period<L>(states[b], k, static_cast<int>(left < L ? left : L), base + b * L, sink);
    }
  }
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t left = n - b * L;
    record_censored<L>(states[b], static_cast<int>(left < L ? left : L), base + b * L, sink);
  }
}

}  // namespace chipcast::parity
