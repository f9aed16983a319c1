// Each lane's log-likelihood of the observations (MODEL-v2.md section 8) and its accept decision.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/philox_stream.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/annual_step.h"
#include "models/parity/lane_state.h"
#include "models/parity/log_ratio.h"
#include "models/parity/params.h"

namespace chipcast::parity {

// Lane l before its first period: no observation seen, L_i = 1.
template <int L>
CC_FUNCTION void reset_observations(int l, LaneState<L>& s) {
  for (int q = 0; q < kNumSupply; ++q)
    for (int b = 0; b < kNumBlocs; ++b) {
      s.sup_max[q][b][l] = -INFINITY;
      s.sup_scaled[q][b][l] = 0.0f;
    }
  s.log_lik[l] = 0.0;
  s.rejected_by[l] = 0u;
}

// ln of observation o's simulated value for lane l at the close of its year,
// from the year's sums: the metrics' are annual_step's, the supply
// quantities' this file's. wafers is a mean over the year's periods (a
// sum less ln per_year); a ratio is LogRatio's (0 -> -inf, +inf, NaN).
template <int L>
CC_FUNCTION float observed_log_value(const ObservationSpec& o, int l, float log_per_year, const LaneState<L>& s) {
  float lv[kNumBlocs];
  for (int b = 0; b < kNumBlocs; ++b) {
    if (o.quantity < kNumMetrics) {
      lv[b] = log_sum_value(s.ann_max[o.quantity][b][l], s.ann_scaled[o.quantity][b][l]);
    } else {
      const int q = o.quantity - kNumMetrics;
      lv[b] = log_sum_value(s.sup_max[q][b][l], s.sup_scaled[q][b][l]);
      if (q == kSupplyWafers) lv[b] -= log_per_year;
    }
  }
  if (o.bloc != kObservedRatio) return lv[o.bloc];
  const LogRatio r(lv[kDomestic], lv[kForeign]);
  return r.nan ? NAN : (r.zero ? -INFINITY : (r.inf ? INFINITY : r.log_r));
}

// ln u_t of trajectory t's acceptance uniform (kAcceptancePeriod, word 0 of slot 0).
CC_FUNCTION double log_acceptance_uniform(uint64_t seed, uint64_t trajectory) {
  const Words4 w = philox_words(seed, trajectory, kAcceptancePeriod, 0);
  return log(uniform_open(w.w0));
}

// After period k's annual_step (whose year sums it reads): adds the supply
// quantities to their year sums and, at a year's last period, each of that
// year's observations' -(ln sim - ln value)^2 / (2 sd_log^2) to log_lik (in
// double: -inf for a simulated 0 or +inf, NaN for a NaN). Nothing after the
// last observed period, so a plain run (no observations) pays one test.
template <int L>
CC_FUNCTION void observation_step(const ModelParams& p, int k, const float (&log_supply)[kNumSupply][kNumBlocs][L],
                                  LaneState<L>& s) {
  if (k >= p.observed_periods) return;
  const int per_year = p.periods_per_year;
  const bool opens = k % per_year == 0;
  CC_UNROLL
  for (int q = 0; q < kNumSupply; ++q) {
    CC_UNROLL
    for (int b = 0; b < kNumBlocs; ++b) {
      CC_SIMD
      for (int l = 0; l < L; ++l) {
        float mx = opens ? -INFINITY : s.sup_max[q][b][l];
        float sc = opens ? 0.0f : s.sup_scaled[q][b][l];
        log_sum_add(log_supply[q][b][l], mx, sc);
        s.sup_max[q][b][l] = mx;
        s.sup_scaled[q][b][l] = sc;
      }
    }
  }
  if ((k + 1) % per_year != 0) return;
  const int year = k / per_year;
  const float log_per_year = logf(static_cast<float>(per_year));
  bool have_log_u = false;
  double log_u[L];
  for (int j = 0; j < p.num_observations; ++j) {
    const ObservationSpec& o = p.observations[j];
    if (o.year != year) continue;
    if (!have_log_u) {
      for (int l = 0; l < L; ++l) log_u[l] = log_acceptance_uniform(p.seed, s.first + static_cast<uint64_t>(l));
      have_log_u = true;
    }
    const double inv_two_var = 1.0 / (2.0 * o.sd_log * o.sd_log);
    for (int l = 0; l < L; ++l) {
      const float lv = observed_log_value<L>(o, l, log_per_year, s);
      s.obs_bin[j][l] = is_nan_bits(lv) ? -1 : level_bin(lv, lv == -INFINITY, lv == INFINITY);
      const double d = static_cast<double>(lv) - o.log_value;
      const double term = -d * d * inv_two_var;
      s.log_lik[l] += term;
      // As accept_trajectory decides, for this factor alone (a NaN rejects).
      if (!(log_u[l] < term)) s.rejected_by[l] |= 1u << j;
    }
  }
}

// MODEL-v2.md section 8: trajectory t is accepted when u_t < L_t, u_t its
// own uniform (kAcceptancePeriod), compared as ln u_t < ln L_t: L_t itself
// underflows to 0 long before its log stops being exact. A NaN ln L is never
// accepted (the comparison is false), nor is -inf.
CC_FUNCTION bool accept_trajectory(uint64_t seed, uint64_t trajectory, double log_lik) {
  return log_acceptance_uniform(seed, trajectory) < log_lik;
}

// The decision for every lane of a block after its observed periods.
template <int L>
CC_FUNCTION void accept_lanes(const ModelParams& p, const LaneState<L>& s, int32_t (&accepted)[L]) {
  for (int l = 0; l < L; ++l) accepted[l] = accept_trajectory(p.seed, s.first + static_cast<uint64_t>(l), s.log_lik[l]);
}

}  // namespace chipcast::parity
