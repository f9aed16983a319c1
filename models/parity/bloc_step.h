// One bloc of every lane: its constants from the drawn parameters and MODEL.md's steps 1-7 of a period.
#pragma once
#include <math.h>

#include "kernels/macros.h"
#include "kernels/simd_math.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/lane_state.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// min() by a select: vectorises, unlike fminf, and keeps a NaN in `a` visible.
CC_FUNCTION float min_of(float a, float b) { return b < a ? b : a; }

// Step 2 of period k for bloc b of every lane: the learning gap shrinks by
// the regime's decay, then MODEL.md's noise, log of logistic(logit(y) + noise)
// (log logistic stable for either sign), into log_y; skipped (y kept) when y
// is 0 or 1. In three lane loops, each transcendental (a vector call on the
// host) in a loop of its own: around a call the host compiler saves and
// restores every vector register live across it, most of a bloc step's in
// one loop body. Selects and bitwise & (not &&) keep the loops branch-free.
template <int L>
CC_FUNCTION void noisy_yield_lanes(int b, const float (&z)[kNumBlocs][3][L], LaneState<L>& s, float (&log_y)[L]) {
  float x[L], e[L];
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    // The learning clock tau advances by learning_mult * dt, so the gap
    // yield_max - y = (yield_max - yield0) exp(-learning_rate tau) shrinks by
    // exp(-learning_rate learning_mult dt) per period (a per-trajectory
    // constant per regime).
    const float gap = s.gap[b][l] * s.cur_decay[b][l];
    s.gap[b][l] = gap;
    const float y = s.yield_max[b][l] - gap;
    x[l] = logf(y / (1.0f - y)) + s.yield_noise[b][l] * z[b][1][l];
  }
  CC_SIMD
  for (int l = 0; l < L; ++l) e[l] = expf(-fabsf(x[l]));
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    const float y = s.yield_max[b][l] - s.gap[b][l];
    const float log_y_noisy = min_of(x[l], 0.0f) - log1p_from_log(e[l]);
    log_y[l] = ((y > 0.0f) & (y < 1.0f)) ? log_y_noisy : (y >= 1.0f ? 0.0f : -INFINITY);
  }
}

// Bloc b's per-trajectory constants and initial state, from the drawn
// parameters `all`; sqdt = sqrt(dt).
template <int L>
CC_FUNCTION void init_bloc(const ModelParams& p, const double (&all)[kMaxParams][L], int b, double sqdt,
                           LaneState<L>& s) {
  const double(*v)[L] = &all[bloc_param_index(b, 0)];
  CC_SIMD
  for (int l = 0; l < L; ++l) {
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
}

// MODEL.md's steps 1-7 of period k for bloc b of every lane, in logs: z are
// the period's normals (period_normals), t_k = (k + 1) dt the period's end in
// years since the start, log_dt = log dt. Updates the bloc's state and writes
// its three metrics to log_metric[metric][b] and the observed supply
// quantities to log_supply[quantity][b].
template <int L>
CC_FUNCTION void bloc_step(int b, const float (&z)[kNumBlocs][3][L], float t_k, float log_dt, LaneState<L>& s,
                           float (&log_metric)[kNumMetrics][kNumBlocs][L],
                           float (&log_supply)[kNumSupply][kNumBlocs][L]) {
  // 2. Yield: the learning gap, then logit-scale noise, skipped at 0 and 1.
  float log_y_lanes[L];
  noisy_yield_lanes<L>(b, z, s, log_y_lanes);
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    // 1. Wafer capacity: drift (+ regime adjustment), volatility, shock jumps, ceiling.
    float lc = s.log_c[b][l] + s.drift_c[b][l] + s.cur_adj_dt[b][l] + s.vol_c[b][l] * z[b][0][l] + s.jump[b][l];
    lc = min_of(lc, s.log_cap[b][l]);
    s.log_c[b][l] = lc;
    const float log_y = log_y_lanes[l];
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
    // The observed supply quantities (MODEL-v2.md section 7): capacity after
    // the ceiling, usable HBM flow (hbm_mult, no stock) and packaging capacity.
    log_supply[kSupplyWafers][b][l] = lc;
    log_supply[kSupplyHbm][b][l] = log_hbm_usable;
    log_supply[kSupplyPackaging][b][l] = log_pack;
  }
}

}  // namespace chipcast::parity
