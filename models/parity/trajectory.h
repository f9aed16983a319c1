// The parity model (MODEL.md v1, MODEL-v2.md v2) for a block of L trajectories ("lanes"): init, one period, finish.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/annual_step.h"
#include "models/parity/bloc_step.h"
#include "models/parity/bloc_step_v2.h"
#include "models/parity/crossing_detection.h"
#include "models/parity/decision_counts.h"
#include "models/parity/lane_state.h"
#include "models/parity/metric_step.h"
#include "models/parity/observation_step.h"
#include "models/parity/params.h"
#include "models/parity/period_normals.h"
#include "models/parity/regime_step.h"
#include "models/parity/sampling_design.h"
#include "models/parity/shock_step.h"

namespace chipcast::parity {

// The driver the backends call. Its pieces live in the files named after
// them and are all CC_FUNCTION (always inlined): init_lanes and step_lanes
// stay one function each, as the host's vectorised lane loops need, and only
// CC_SEPARATE / CC_COLD decide what is called out of line.

// Draws the lanes' parameters (trajectories first .. first + L - 1) and sets
// every per-trajectory constant and the state before period 0.
template <int L>
CC_SEPARATE void init_lanes(const ModelParams& p, uint64_t first, LaneState<L>& s) {
  s.first = first;
  const double sqdt = sqrt(p.dt);
  double all[kMaxParams][L];
  draw_all_parameters<L>(p, first, all);
  CC_UNROLL
  for (int b = 0; b < kNumBlocs; ++b) {
    init_bloc<L>(p, all, b, sqdt, s);
    init_regime_effects<L>(p, all, b, s);
  }
  if (p.v2) {
    CC_UNROLL
    for (int b = 0; b < kNumBlocs; ++b) {
      init_bloc_v2<L>(p, all, b, s);
      init_regime_effects_v2<L>(p, all, b, s);
    }
    if (p.perf_lag_bloc >= 0) init_perf_lag<L>(p, all, s);
  }
  init_shock_thresholds<L>(p, all, s);
  init_walk<L>(p, s);
  s.log_dt = logf(static_cast<float>(p.dt));
  s.log_thr = crossing_rule(p).log_thr;
  s.live_jumps = 1;
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    s.regime[l] = p.initial_regime;
    reset_crossing<L>(l, s);
    reset_annual<L>(l, s);
    reset_observations<L>(l, s);
  }
  select_effects<L>(p, s, ~int32_t{0});
  s.varying_effects = varying_effects<L>(p, s);
}

// One period k for every lane: regime update, events, shocks, the seven
// steps for both blocs, the three metrics, bins and crossing detection.
// The period is computed as three kinds of lane loops (normals; each bloc;
// each metric): small loop bodies are what the host compiler vectorises.
// Observe: also the observations' year sums and log-likelihoods
// (observation_step), which only a calibrate run's first pass reads; a plain
// run's instantiation has no observation code at all, and the supply
// quantities the bloc steps write to the local log_supply are dead stores
// there, which the compiler drops.
template <int L, bool Observe = false>
CC_SEPARATE void step_lanes(const ModelParams& p, int k, LaneState<L>& s) {
  const uint32_t period = static_cast<uint32_t>(k);
  const uint64_t first = s.first;  // locals, so lane loops need no 64-bit loads
  const uint64_t seed = p.seed;
  const int nreg = p.num_regimes;  // before the lane loops store into s
  const int32_t v2 = p.v2;
  const int32_t stock[kNumBlocs] = {p.v2_stock[0], p.v2_stock[1]};
  const int32_t lag_bloc = p.perf_lag_bloc;

  float z[kNumBlocs][3][L];
  uint32_t w_regime[L];
  period_normals<L>(seed, first, period, z, w_regime, s);
  const int32_t changed = regime_step<L>(p, k, nreg, seed, first, w_regime, s);
  shock_jumps<L>(p, period, s);

  const float dt = static_cast<float>(p.dt);
  const float t_k = static_cast<float>((k + 1) * p.dt);
  const float log_dt = s.log_dt;
  const CrossingRule rule{s.log_thr, p.sub_bins, p.sustain};

  if (changed) select_effects<L>(p, s, s.varying_effects);

  float log_metric[kNumMetrics][kNumBlocs][L];
  float log_supply[kNumSupply][kNumBlocs][L];
  if (v2) {
    CC_UNROLL
    for (int b = 0; b < kNumBlocs; ++b)
      bloc_step_v2_for<L>(b, z, t_k, log_dt, stock[b], lag_bloc == b, s, log_metric, log_supply);
  } else {
    CC_UNROLL
    for (int b = 0; b < kNumBlocs; ++b) bloc_step<L>(b, z, t_k, log_dt, s, log_metric, log_supply);
  }
  CC_UNROLL
  for (int m = 0; m < kNumMetrics; ++m) metric_step<L>(m, k, dt, rule, log_metric, s);
  annual_step<L>(p, k, log_metric, s);
  if (Observe) observation_step<L>(p, k, log_supply, s);
}

// The level counts of row k (a period, or a calendar year's annual row) of
// lanes [0, n): sink.level(k, series, base + lane, bin[series][lane]).
// Clean: every bin is >= 0, which the sink's anomaly test is then told (CC_ASSUME).
template <bool Clean, int L, class Sink>
CC_FUNCTION void record_level_loop(const int32_t (&bin)[kNumSeries][L], int k, int n, int64_t base, Sink& sink) {
  for (int l = 0; l < n; ++l) {
    CC_UNROLL
    for (int q = 0; q < kNumSeries; ++q) {
      const int b = bin[q][l];
      if (Clean) CC_ASSUME(b >= 0);
      sink.level(k, q, base + l, b);
    }
  }
}
template <int L, class Sink>
CC_FUNCTION void record_levels(const int32_t (&bin)[kNumSeries][L], int k, int n, int64_t base, Sink& sink) {
  int32_t all = 0;  // negative iff some bin is (an anomaly)
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    CC_UNROLL
    for (int q = 0; q < kNumSeries; ++q) all |= bin[q][l];
  }
  if (all >= 0)
    record_level_loop<true, L>(bin, k, n, base, sink);
  else
    record_level_loop<false, L>(bin, k, n, base, sink);
}

// Hands lanes [0, n) of the last period's results to a sink; `base` is the
// batch-local index of lane 0, and i = base + lane below:
//   sink.level(k, series, i, bin)        (bin < 0: an anomaly, tally_layout.h)
//   sink.level(row, series, i, bin)      if the period closed a calendar year
//                                        (row = TallyShape::annual_row(year))
//   sink.crossing(metric, i, bin, t)     (t: years since start_year)
template <int L, class Sink>
CC_FUNCTION void record_period(const LaneState<L>& s, int k, int n, int64_t base, Sink& sink) {
  // Lane-major: a lane's nine counts go to nine different rows, so
  // consecutive increments never hit the same counter (in series-major order
  // two lanes of a period in the same bin made the second increment wait for
  // the store of the first). A block whose bins are all >= 0 (no anomaly:
  // almost every block, found by one OR over its bins) takes the loop in
  // which the sink's anomaly test is known false (CC_ASSUME) and dropped.
  record_levels<L>(s.bin, k, n, base, sink);
  if (s.annual_row >= 0) record_levels<L>(s.ann_bin, s.annual_row, n, base, sink);
  int32_t any_cross = 0;  // a crossing confirmed this period: rare
  CC_UNROLL
  for (int m = 0; m < kNumMetrics; ++m) {
    CC_SIMD
    for (int l = 0; l < L; ++l) any_cross |= s.new_cross[m][l];
  }
  if (!any_cross) return;
  CC_UNROLL
  for (int m = 0; m < kNumMetrics; ++m)
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
CC_FUNCTION void run_blocks(const ModelParams& p, uint64_t first, int64_t n, int64_t base, LaneState<L>* states,
                            Sink& sink) {
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

// A sink that hands every lane's results to `prior` and those of accepted
// lanes (LaneState::accepted of the block holding batch-local index i) also to
// `posterior`: one simulation fills both tallies of a calibrate run.
template <int L, class Prior, class Posterior>
struct RoutingSink {
  Prior& prior;
  Posterior& posterior;
  const LaneState<L>* states;  // the blocks of the batch-local indices [base, ...)
  int64_t base;

  CC_FUNCTION bool accepted(int64_t i) const {
    const int64_t j = i - base;
    return states[j / L].accepted[j % L] != 0;
  }
  CC_FUNCTION void level(int k, int series, int64_t i, int bin) {
    prior.level(k, series, i, bin);
    if (accepted(i)) posterior.level(k, series, i, bin);
  }
  CC_FUNCTION void crossing(int metric, int64_t i, int bin, float t) {
    prior.crossing(metric, i, bin, t);
    if (accepted(i)) posterior.crossing(metric, i, bin, t);
  }
  CC_FUNCTION void censored(int metric, int64_t i) {
    prior.censored(metric, i);
    if (accepted(i)) posterior.censored(metric, i);
  }
};

// run_blocks for a calibrate run (MODEL-v2.md section 8), in two passes over
// the same blocks: first every lane up to p.observed_periods with nothing
// recorded, and its accept decision (accept_lanes: a pure function of seed,
// trajectory and its own simulation); then the lanes re-initialised and run
// over the whole horizon exactly as run_blocks, every lane recorded into
// `prior` and the accepted ones also into `posterior`. So the prior is the
// plain run's, bit for bit, and the cost is (observed_periods + periods) /
// periods of a run's. `accepted_count` receives the accepted lanes among the
// n (padding lanes are not counted); `decisions` (DecisionCounts, or
// NoDecisions) each lane's parameter uniforms and rejecting observations.
template <int L, class Prior, class Posterior, class Decisions = NoDecisions>
CC_FUNCTION void run_blocks_calibrated(const ModelParams& p, uint64_t first, int64_t n, int64_t base,
                                       LaneState<L>* states, Prior& prior, Posterior& posterior,
                                       int64_t& accepted_count, Decisions* decisions = nullptr) {
  const int64_t blocks = (n + L - 1) / L;
  for (int64_t b = 0; b < blocks; ++b) init_lanes<L>(p, first + b * L, states[b]);
  for (int k = 0; k < p.observed_periods; ++k)
    for (int64_t b = 0; b < blocks; ++b) step_lanes<L, true>(p, k, states[b]);
  accepted_count = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    accept_lanes<L>(p, states[b], states[b].accepted);
    const int64_t left = n - b * L;
    const int used = static_cast<int>(left < L ? left : L);
    for (int l = 0; l < used; ++l) accepted_count += states[b].accepted[l];
    if (decisions) record_decisions<L>(p, states[b], used, *decisions);
  }
  RoutingSink<L, Prior, Posterior> sink{prior, posterior, states, base};
  run_blocks<L>(p, first, n, base, states, sink);
}

}  // namespace chipcast::parity
