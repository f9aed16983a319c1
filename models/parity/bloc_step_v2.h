// One bloc of every lane under MODEL-v2.md sections 1-5: its extra constants and the v2 form of steps 1-7.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/simd_math.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/bloc_step.h"
#include "models/parity/lane_state.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Bit r of ModelParams::v2_long[b]: the bloc gives the long-run partner of
// rate r (BlocParamV2 order); without it g_long = g (the same draw).
CC_FUNCTION constexpr int32_t long_bit(int rate) { return int32_t{1} << rate; }

// The long-run rate of bloc rate g (its partner lng, or g itself without one:
// the same draw) and dG = (g - g_long) h / ln 2 (0 without a half-life).
CC_FUNCTION double long_rate(double g, double lng, double h, int32_t has_long, int32_t relax, float& dg) {
  const double g_long = has_long ? lng : g;
  dg = relax ? static_cast<float>((g - g_long) * (h / 0.69314718055994530942)) : 0.0f;
  return g_long;
}

// Bloc b's v2 constants and state, after init_bloc (whose v1 slots drift_c,
// drift_h, perf_growth, hpc_growth, pack_growth then hold the long-run rates).
// Called only when p.v2.
template <int L>
CC_FUNCTION void init_bloc_v2(const ModelParams& p, const double (&all)[kMaxParams][L], int b, LaneState<L>& s) {
  const double(*v)[L] = &all[bloc_param_index(b, 0)];
  const double(*w)[L] = &all[bloc_param_v2_index(b, 0)];
  const int32_t relax = p.v2_growth[b];
  const int32_t has_long = p.v2_long[b];
  const double* h = w[kGrowthHalflife];
  for (int l = 0; l < L; ++l) {
    double gl;
    gl = long_rate(v[kWaferGrowth][l], w[kWaferGrowthLong][l], h[l], has_long & long_bit(kWaferGrowthLong), relax,
                   s.dg_wafer[b][l]);
    s.drift_c[b][l] = static_cast<float>(gl * p.dt);
    gl = long_rate(v[kHbmGrowth][l], w[kHbmGrowthLong][l], h[l], has_long & long_bit(kHbmGrowthLong), relax,
                   s.dg_hbm[b][l]);
    s.drift_h[b][l] = static_cast<float>(gl * p.dt);
    gl = long_rate(v[kPackagingGrowth][l], w[kPackagingGrowthLong][l], h[l], has_long & long_bit(kPackagingGrowthLong),
                   relax, s.dg_pack[b][l]);
    s.pack_growth[b][l] = static_cast<float>(gl);
    gl = long_rate(v[kPerfGrowth][l], w[kPerfGrowthLong][l], h[l], has_long & long_bit(kPerfGrowthLong), relax,
                   s.dg_perf[b][l]);
    s.perf_growth[b][l] = static_cast<float>(gl);
    gl = long_rate(v[kHbmPerChipGrowth][l], w[kHbmPerChipGrowthLong][l], h[l],
                   has_long & long_bit(kHbmPerChipGrowthLong), relax, s.dg_hpc[b][l]);
    s.hpc_growth[b][l] = static_cast<float>(gl);
    s.decay_rate[b][l] = relax ? static_cast<float>(0.69314718055994530942 / h[l]) : 0.0f;
    s.prev_decay[b][l] = 1.0f;
    s.decay_step[b][l] = relax ? static_cast<float>(exp2(-p.dt / h[l])) : 1.0f;
    s.die_stock[b][l] = static_cast<float>(w[kDieStock0][l]);
    s.hbm_stock[b][l] = static_cast<float>(w[kHbmStock0][l]);
    s.lag0[b][l] = static_cast<float>(w[kPerfLag][l]);
    s.lag_drift[b][l] = static_cast<float>(w[kPerfLagDrift][l]);
    s.lag_decay_rate[b][l] = 0.0f;
    s.lag_g0[b][l] = 0.0f;
    s.sum_pack_adj[b][l] = 0.0f;
    s.sum_perf_adj[b][l] = 0.0f;
    s.jump_hbm[b][l] = 0.0f;
    s.jump_pack[b][l] = 0.0f;
    s.jump_cap[b][l] = 0.0f;
  }
}

// MODEL-v2.md section 4: the lagging bloc's perf constants become the other
// bloc's frontier (its perf0, long-run rate, dG and 1/h, and its rate at the
// start for times before it), so the period step reads one bloc only.
// Called after init_bloc_v2 of both blocs when p.perf_lag_bloc >= 0.
template <int L>
CC_FUNCTION void init_perf_lag(const ModelParams& p, const double (&all)[kMaxParams][L], LaneState<L>& s) {
  const int b = p.perf_lag_bloc;
  const int o = 1 - b;
  const double* g0 = all[bloc_param_index(o, kPerfGrowth)];
  for (int l = 0; l < L; ++l) {
    s.log_perf0[b][l] = s.log_perf0[o][l];
    s.perf_growth[b][l] = s.perf_growth[o][l];
    s.dg_perf[b][l] = s.dg_perf[o][l];
    s.lag_decay_rate[b][l] = s.decay_rate[o][l];
    s.lag_g0[b][l] = static_cast<float>(g0[l]);
  }
}

// MODEL-v2.md's steps 1-7 of a period for bloc b of every lane (bloc_step's
// v1 steps with the v2 mechanisms), with the period's wafers, usable HBM and
// packaging (logs) in log_supply[quantity][b] as bloc_step does. Stock: the bloc
// has stocks (p.v2_stock[b]); Lag: its perf follows the other bloc's frontier
// (p.perf_lag_bloc == b). Template flags, not run-time ones: inside an `omp
// simd` loop a branch is if-converted, so its expf/logf calls would run in
// every lane and period.
template <int L, bool Stock, bool Lag>
CC_FUNCTION void bloc_step_v2(int b, const float (&z)[kNumBlocs][3][L], float t_k, float log_dt, LaneState<L>& s,
                              float (&log_metric)[kNumMetrics][kNumBlocs][L],
                              float (&log_supply)[kNumSupply][kNumBlocs][L]) {
  // Stock: the logs the stock step needs (and the perf term of compute), and
  // whether this period draws on a stock (see below), per lane.
  float st_good[Stock ? L : 1], st_flow[Stock ? L : 1], st_hpc[Stock ? L : 1], st_pack[Stock ? L : 1],
      st_perf[Stock ? L : 1];
  int32_t draws[Stock ? L : 1];
  // 2. Yield, as v1 (noisy_yield_lanes: its own lane loops).
  float log_y_lanes[L];
  noisy_yield_lanes<L>(b, z, s, log_y_lanes);
  // Section 4, Lag: the frontier is read at another time, t - L(t), so it
  // needs its own 2^(-s/h) (of the other bloc's half-life): the lagging bloc's
  // one expf, in a lane loop of its own (noisy_yield_lanes says why).
  float lag_at[Lag ? L : 1], lag_pow[Lag ? L : 1];
  if (Lag) {
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      const float lag = s.lag0[b][l] + s.lag_drift[b][l] * t_k;
      lag_at[l] = t_k - (lag > 0.0f ? lag : 0.0f);
    }
    CC_SIMD
    for (int l = 0; l < L; ++l) lag_pow[l] = expf(-lag_at[l] * s.lag_decay_rate[b][l]);
  }
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    // Section 1: 2^(-t/h) of the period's end, shared by the bloc's five rates,
    // by the recurrence 2^(-t_k/h) = 2^(-t_{k-1}/h) * 2^(-dt/h) (decay_step,
    // computed once per trajectory in double; one float multiply per period,
    // not an expf: its relative error after the 136 periods of a 34-year run
    // is ~1e-5, and decay only ever scales dG). The walks add
    // G(t_k) - G(t_{k-1}) = g_long dt + dG (2^(-t_{k-1}/h) - 2^(-t_k/h)),
    // the levels use G(t_k) = g_long t_k + dG (1 - 2^(-t_k/h)).
    const float decay = s.prev_decay[b][l] * s.decay_step[b][l];
    const float fall = s.prev_decay[b][l] - decay;
    const float rise = 1.0f - decay;
    s.prev_decay[b][l] = decay;
    // 1. Wafer capacity; the ceiling falls for good with wafer_cap shocks and
    // moves with the regime's wafer_cap_mult; capacity cut by it stays cut.
    const float log_cap = s.log_cap[b][l] + s.jump_cap[b][l];
    s.log_cap[b][l] = log_cap;
    float lc = s.log_c[b][l] + s.drift_c[b][l] + s.dg_wafer[b][l] * fall + s.cur_adj_dt[b][l] +
               s.vol_c[b][l] * z[b][0][l] + s.jump[b][l];
    lc = min_of(lc, log_cap + s.cur_log_cap_mult[b][l]);
    s.log_c[b][l] = lc;
    const float log_y = log_y_lanes[l];
    // 3. HBM supply: the walk with the regime's hbm_growth_adj and HBM shocks.
    const float lh = s.log_h[b][l] + s.drift_h[b][l] + s.dg_hbm[b][l] * fall + s.cur_hbm_adj_dt[b][l] +
                     s.vol_h[b][l] * z[b][2][l] + s.jump_hbm[b][l];
    s.log_h[b][l] = lh;
    const float log_hbm_usable = lh + s.cur_log_hbm[b][l] + log_dt;
    // 4. HBM per chip; packaging with its shocks (for good), the running sum of
    // packaging_growth_adj * dt (this period's included) and packaging_mult.
    const float log_hpc = s.log_hpc0[b][l] + s.hpc_growth[b][l] * t_k + s.dg_hpc[b][l] * rise;
    const float log_pack0 = s.log_pack_dt[b][l] + s.jump_pack[b][l];
    s.log_pack_dt[b][l] = log_pack0;
    const float sum_pack = s.sum_pack_adj[b][l] + s.cur_pack_adj_dt[b][l];
    s.sum_pack_adj[b][l] = sum_pack;
    const float log_pack =
        log_pack0 + s.pack_growth[b][l] * t_k + s.dg_pack[b][l] * rise + sum_pack + s.cur_log_pack_mult[b][l];
    // 5.-6. Good dies, then the binding constraint (without stocks, v1's).
    const float log_good = lc + s.log_die_rate[b][l] + log_y;
    const float log_per_chip = log_hbm_usable - log_hpc;  // chips the HBM flow supplies
    const float log_chips = min_of(min_of(log_good, log_per_chip), log_pack);
    if (Stock) {
      // Section 2: flows first, then the stocks make up a shortfall. A stock
      // is drawn only where its own flow binds: the die bank where good dies
      // are the (or a tied) smallest limit, the HBM stock where the HBM flow
      // is; a period that draws on neither is v1's formula exactly (in exact
      // arithmetic the level form below gives the same chips then). The
      // level form, with its four expf and a logf, runs after this loop, only
      // in blocks where some lane draws, and there only for those lanes.
      const bool die_draw = (s.die_stock[b][l] > 0.0f) & (log_good <= min_of(log_per_chip, log_pack));
      const bool hbm_draw = (s.hbm_stock[b][l] > 0.0f) & (log_per_chip <= min_of(log_good, log_pack));
      const int32_t d = (die_draw | hbm_draw) ? 1 : 0;
      draws[l] = d;
      st_good[l] = log_good;
      st_flow[l] = log_hbm_usable;
      st_hpc[l] = log_hpc;
      st_pack[l] = log_pack;
    }
    // 7. The three metrics; perf with the running sum of perf_growth_adj * dt,
    // for a lagging bloc at the other bloc's frontier at t - L(t) (section 4).
    const float sum_perf = s.sum_perf_adj[b][l] + s.cur_perf_adj_dt[b][l];
    s.sum_perf_adj[b][l] = sum_perf;
    float growth = s.perf_growth[b][l] * t_k + s.dg_perf[b][l] * rise;
    if (Lag) {
      const float at = lag_at[l];
      const float ahead = s.perf_growth[b][l] * at + s.dg_perf[b][l] * (1.0f - lag_pow[l]);
      growth = at < 0.0f ? s.lag_g0[b][l] * at : ahead;
    }
    const float log_perf = s.log_perf0[b][l] + growth + sum_perf;
    if (Stock) st_perf[l] = log_perf;
    log_metric[kUnits][b][l] = log_chips;
    log_metric[kCompute][b][l] = log_chips + log_perf;
    log_metric[kMemory][b][l] = log_chips + log_hpc;
    // The observed supply quantities (MODEL-v2.md section 7): capacity after
    // the ceiling, usable HBM flow (hbm_mult, no stock) and packaging capacity.
    log_supply[kSupplyWafers][b][l] = lc;
    log_supply[kSupplyHbm][b][l] = log_hbm_usable;
    log_supply[kSupplyPackaging][b][l] = log_pack;
  }
  if (Stock) {
    // Group by group of rare_group(L) lanes (one AVX-512 vector of floats), so
    // that a block of 64 lanes pays for the level form only in the groups
    // where some lane draws.
    constexpr int G = rare_group(L);
    static_assert(L % G == 0, "a block is whole groups");
    for (int g = 0; g < L; g += G) {
      int32_t any_draw = 0;
      CC_SIMD
      for (int l = g; l < g + G; ++l) any_draw |= draws[l];
      if (!any_draw) continue;
      CC_SIMD
      for (int l = g; l < g + G; ++l) {
        // Section 2 in levels, for the lanes that draw: chips = min(good + die
        // stock, (HBM flow + HBM stock) / HBM per chip, packaging); the stocks
        // only ever fall.
        const float die_stock = s.die_stock[b][l];
        const float hbm_stock = s.hbm_stock[b][l];
        const float good = expf(st_good[l]);
        const float flow = expf(st_flow[l]);
        const float hpc = expf(st_hpc[l]);
        const float chips = min_of(min_of(good + die_stock, (flow + hbm_stock) / hpc), expf(st_pack[l]));
        const float die_used = chips - good > 0.0f ? chips - good : 0.0f;
        const float hbm_used = chips * hpc - flow > 0.0f ? chips * hpc - flow : 0.0f;
        const float die_left = die_stock - die_used > 0.0f ? die_stock - die_used : 0.0f;
        const float hbm_left = hbm_stock - hbm_used > 0.0f ? hbm_stock - hbm_used : 0.0f;
        const bool drawn = draws[l] != 0;
        const float log_chips = logf(chips);
        log_metric[kUnits][b][l] = drawn ? log_chips : log_metric[kUnits][b][l];
        log_metric[kCompute][b][l] = drawn ? log_chips + st_perf[l] : log_metric[kCompute][b][l];
        log_metric[kMemory][b][l] = drawn ? log_chips + st_hpc[l] : log_metric[kMemory][b][l];
        s.die_stock[b][l] = drawn ? die_left : die_stock;
        s.hbm_stock[b][l] = drawn ? hbm_left : hbm_stock;
      }
    }
  }
}

// bloc_step_v2 with the bloc's run-time flags turned into template ones.
template <int L>
CC_FUNCTION void bloc_step_v2_for(int b, const float (&z)[kNumBlocs][3][L], float t_k, float log_dt, int32_t stock,
                                  int32_t lagging, LaneState<L>& s, float (&log_metric)[kNumMetrics][kNumBlocs][L],
                                  float (&log_supply)[kNumSupply][kNumBlocs][L]) {
  if (stock) {
    if (lagging)
      bloc_step_v2<L, true, true>(b, z, t_k, log_dt, s, log_metric, log_supply);
    else
      bloc_step_v2<L, true, false>(b, z, t_k, log_dt, s, log_metric, log_supply);
  } else {
    if (lagging)
      bloc_step_v2<L, false, true>(b, z, t_k, log_dt, s, log_metric, log_supply);
    else
      bloc_step_v2<L, false, false>(b, z, t_k, log_dt, s, log_metric, log_supply);
  }
}

}  // namespace chipcast::parity
