// Per-lane state of a block of L trajectories ("lanes"), in structure-of-arrays form.
#pragma once
#include <stdint.h>

#include "kernels/tally/tally_layout.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// On the host the lanes of a block are computed together by `omp simd` loops
// (L = 16); a GPU thread runs one trajectory (L = 1). Every lane computes the
// same instructions whatever its position, so a trajectory's result never
// depends on its block, batch, thread or device. Blocks are always computed
// full; a partial block is padded and the padding lanes are simply not recorded.
template <int L>
struct LaneState {
  uint64_t first = 0;  // trajectory index of lane 0

  // Per-trajectory constants derived from the drawn parameters (per bloc).
  float drift_c[kNumBlocs][L];       // wafer_growth * dt
  float vol_c[kNumBlocs][L];         // wafer_vol * sqrt(dt)
  float log_cap[kNumBlocs][L];       // log wafer_cap
  float log_die_rate[kNumBlocs][L];  // log(12 * dt * dies_per_wafer)
  float yield_max[kNumBlocs][L];
  float yield_noise[kNumBlocs][L];
  float log_perf0[kNumBlocs][L];
  float perf_growth[kNumBlocs][L];
  float drift_h[kNumBlocs][L];   // hbm_growth * dt
  float vol_h[kNumBlocs][L];     // hbm_vol * sqrt(dt)
  float log_hpc0[kNumBlocs][L];  // log hbm_per_chip0
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
  uint32_t w_any[L];                       // this period's "any shock" word (slot B, word 3)

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
  int32_t bin[kNumSeries][L];         // level bin per series (metric*3 + {ratio, dom, for}); < 0: an anomaly
  int32_t new_cross[kNumMetrics][L];  // 1 if the crossing was confirmed this period

  // ---- Calendar-year totals (MODEL-v2.md section 6; annual_step.h) ----
  // Each metric's bloc output summed over the current calendar year, as a
  // running log-sum-exp: sum = exp(ann_max) * ann_scaled, ann_scaled >= 1
  // once a nonzero level was added (NaN sticks in ann_max).
  float ann_max[kNumMetrics][kNumBlocs][L];
  float ann_scaled[kNumMetrics][kNumBlocs][L];
  // Set when the last period closed a calendar year: its tally row
  // (TallyShape::annual_row; -1 when none) and the year's bins per series.
  int32_t annual_row = -1;
  int32_t ann_bin[kNumSeries][L];
  // ---- end calendar-year totals ----
};

}  // namespace chipcast::parity
