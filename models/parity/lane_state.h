// Per-lane state of a block of L trajectories ("lanes"), in structure-of-arrays form.
#pragma once
#include <stdint.h>

#include "kernels/tally/tally_layout.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Lanes per group for the steps that run only in groups where some lane
// needs them (a stock draw's level form): 16, one AVX-512 vector of floats,
// or the whole block when it is smaller (a GPU's one lane).
CC_FUNCTION constexpr int rare_group(int lanes) { return lanes < 16 ? lanes : 16; }

// On the host the lanes of a block are computed together by `omp simd` loops
// (L = kHostLanes, 64: backends/host_blocks.h); a GPU thread runs one
// trajectory (L = 1). Every lane computes the
// same instructions whatever its position, so a trajectory's result never
// depends on its block, batch, thread or device. Blocks are always computed
// full; a partial block is padded and the padding lanes are simply not recorded.
// On the host (L >= 16) every [..][L] array is 64 bytes or a multiple, so with
// the struct 64-byte aligned and its scalars last each lane loop loads and
// stores whole cache lines (one AVX-512 access each; with `first` in front
// every access straddled two lines).
template <int L>
struct alignas(L >= 16 ? 64 : alignof(uint64_t)) LaneState {
  // Per-trajectory constants derived from the drawn parameters (per bloc).
  float drift_c[kNumBlocs][L];       // wafer_growth * dt
  float vol_c[kNumBlocs][L];         // wafer_vol * sqrt(dt)
  float log_cap[kNumBlocs][L];       // log wafer_cap (v2: lowered for good by wafer_cap shocks)
  float log_die_rate[kNumBlocs][L];  // log(12 * dt * dies_per_wafer)
  float yield_max[kNumBlocs][L];
  float yield_noise[kNumBlocs][L];
  float log_perf0[kNumBlocs][L];
  float perf_growth[kNumBlocs][L];
  float drift_h[kNumBlocs][L];   // hbm_growth * dt
  float vol_h[kNumBlocs][L];     // hbm_vol * sqrt(dt)
  float log_hpc0[kNumBlocs][L];  // log hbm_per_chip0
  float hpc_growth[kNumBlocs][L];
  float log_pack_dt[kNumBlocs][L];  // log(packaging0 * dt) (v2: lowered for good by packaging shocks)
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

  // ---- MODEL-v2.md sections 1-5 (read and written only when p.v2) ----
  // Relaxing growth: G(t) = g_long t + (g - g_long) (h / ln 2) (1 - 2^(-t/h)),
  // kept as g_long (in drift_c/drift_h * 1/dt for the walks, in the v1 slots
  // perf_growth/hpc_growth/pack_growth for the levels) plus dG_* = (g - g_long) h / ln 2.
  // ln 2 / growth_halflife (0 without one); a lagging bloc's frontier reads 2^(-s/h) = exp(-decay_rate s).
  float decay_rate[kNumBlocs][L];
  float prev_decay[kNumBlocs][L];  // 2^(-t_{k-1}/h), 1 before period 0
  float decay_step[kNumBlocs][L];  // 2^(-dt/h), 1 without a half-life: prev_decay's factor per period
  float dg_wafer[kNumBlocs][L];
  float dg_hbm[kNumBlocs][L];
  float dg_pack[kNumBlocs][L];
  float dg_perf[kNumBlocs][L];
  float dg_hpc[kNumBlocs][L];
  // Stocks (levels, not logs), drawn down by production.
  float die_stock[kNumBlocs][L];
  float hbm_stock[kNumBlocs][L];
  // Perf lag behind the other bloc's frontier (the lagging bloc's log_perf0,
  // perf_growth, dg_perf hold the other bloc's; lag_decay_rate its ln 2 / h).
  float lag0[kNumBlocs][L];
  float lag_drift[kNumBlocs][L];
  float lag_decay_rate[kNumBlocs][L];
  float lag_g0[kNumBlocs][L];  // the other bloc's perf_growth at the start (for t - L(t) < 0)
  // Running sums of the growth adjustments of the closed-form levels.
  float sum_pack_adj[kNumBlocs][L];
  float sum_perf_adj[kNumBlocs][L];
  // Regime effects per regime and bloc: adj * dt, log packaging_mult, log wafer_cap_mult.
  float eff_hbm_adj_dt[kMaxRegimes][kNumBlocs][L];
  float eff_pack_adj_dt[kMaxRegimes][kNumBlocs][L];
  float eff_perf_adj_dt[kMaxRegimes][kNumBlocs][L];
  float eff_log_pack_mult[kMaxRegimes][kNumBlocs][L];
  float eff_log_cap_mult[kMaxRegimes][kNumBlocs][L];
  float cur_hbm_adj_dt[kNumBlocs][L];
  float cur_pack_adj_dt[kNumBlocs][L];
  float cur_perf_adj_dt[kNumBlocs][L];
  float cur_log_pack_mult[kNumBlocs][L];
  float cur_log_cap_mult[kNumBlocs][L];
  // Shock jumps of the current period on the other targets (jump[] is wafers);
  // a wafer_cap jump lowers log_cap, a packaging one log_pack_dt, for good.
  float jump_hbm[kNumBlocs][L];
  float jump_pack[kNumBlocs][L];
  float jump_cap[kNumBlocs][L];
  // ---- end of MODEL-v2.md sections 1-5 ----

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
  int32_t ann_bin[kNumSeries][L];
  // ---- end calendar-year totals ----

  // ---- Observations (MODEL-v2.md sections 7-8; observation_step.h) ----
  // Each supply quantity's bloc value summed over the current calendar year,
  // as the annual totals' running log-sum-exp (written only with observations).
  float sup_max[kNumSupply][kNumBlocs][L];
  float sup_scaled[kNumSupply][kNumBlocs][L];
  // ln L_i so far: the sum of -(ln sim - ln value)^2 / (2 sd_log^2) over the
  // observations of the years closed; -inf after a simulated 0, NaN after a NaN.
  double log_lik[L];
  // The accept decision of a calibrate run's first pass (run_blocks_calibrated),
  // which init_lanes leaves alone so that it outlives the lanes' re-initialisation.
  int32_t accepted[L];
  // Bit j: observation j's factor alone rejects the lane (u >= L_j, u its
  // acceptance uniform), set at its year's close (calibrate's warning).
  uint32_t rejected_by[L];
  // Observation j's simulated value's level bin (kernels/tally/tally_layout.h;
  // -1 for a NaN), set at its year's close: calibrate's predictive histograms.
  int32_t obs_bin[kMaxObservations][L];
  // ---- end observations ----

  // Constants of the run, the same in every block, set by init_lanes so that
  // the period step does not recompute them: the regime walk's word
  // thresholds (init_walk: a lane in regime `from` moves to the first j of
  // bit mask walk_to[from], in name order, whose walk_last it is <=).
  uint32_t walk_last[kMaxRegimes][kMaxRegimes];
  int32_t walk_to[kMaxRegimes];
  uint32_t walk_most;  // the largest walk_last of any move (0 without any)

  // Scalars last (see above).
  uint64_t first = 0;       // trajectory index of lane 0
  int32_t annual_row = -1;  // see ann_bin
  float log_dt = 0.0f;      // logf(dt), a constant of the run
  float log_thr = 0.0f;     // the crossing rule's log threshold (crossing_rule)
  // The effect arrays (regime_step.h, effect_bit) whose values differ between
  // regimes in some lane of this block: the only ones a regime change selects again.
  int32_t varying_effects = 0;
  // Some jump array holds a nonzero jump from the last period (shock_jumps
  // zeroes them only then).
  int32_t live_jumps = 1;
};

}  // namespace chipcast::parity
