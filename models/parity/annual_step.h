// Calendar-year totals of every lane (MODEL-v2.md section 6): each bloc's output summed over the year's periods.
#pragma once
#include <math.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/lane_state.h"
#include "models/parity/log_ratio.h"
#include "models/parity/params.h"
#include "models/parity/series_bins.h"

namespace chipcast::parity {

// Adds a level (its log x) to a running log-sum-exp (mx, sc): the sum
// exp(mx) * sc is kept with sc in [1, periods per year] once a nonzero level
// was added, so it cannot overflow where a level does not. An empty bloc
// (x = -inf) adds nothing; +inf makes the sum +inf; a NaN sticks in mx.
// In three steps (annual_step's three lane loops): the gap d <= 0 between x
// and mx, e = exp(d), then the update.
CC_FUNCTION float log_sum_gap(float x, float mx) {
  const bool up = x > mx;  // false whenever x or mx is NaN
  return up ? mx - x : x - mx;
}
// d is NaN for -inf - -inf or inf - inf (the sum is 0, or +inf already) and for a NaN.
CC_FUNCTION float log_sum_exp(float d) { return is_nan_bits(d) ? 0.0f : expf(d); }
CC_FUNCTION void log_sum_update(float x, float e, float& mx, float& sc) {
  const bool up = x > mx;
  sc = up ? sc * e + 1.0f : sc + e;
  mx = is_nan_bits(x) ? x : (up ? x : mx);
}
CC_FUNCTION void log_sum_add(float x, float& mx, float& sc) { log_sum_update(x, log_sum_exp(log_sum_gap(x, mx)), mx, sc); }

// Lane l before its first period: empty sums.
template <int L>
CC_FUNCTION void reset_annual(int l, LaneState<L>& s) {
  for (int m = 0; m < kNumMetrics; ++m)
    for (int b = 0; b < kNumBlocs; ++b) {
      s.ann_max[m][b][l] = -INFINITY;
      s.ann_scaled[m][b][l] = 0.0f;
    }
}

// log of the running sum: -inf for an empty year (sc = 0), NaN if any level was.
CC_FUNCTION float log_sum_value(float mx, float sc) { return mx + logf(sc); }

// After period k's metrics (bloc_step's log_metric): adds them to the
// calendar year's sums and, at the year's last period, sets the year's tally
// row and its bins (SeriesBins, as the periods' bins); annual_row is -1 for a
// period that closes no tallied year. Periods of a last, partial year are
// not summed.
template <int L>
CC_FUNCTION void annual_step(const ModelParams& p, int k, const float (&log_metric)[kNumMetrics][kNumBlocs][L],
                             LaneState<L>& s) {
  s.annual_row = -1;
  const int per_year = p.periods_per_year;
  if (per_year <= 0 || k / per_year >= p.years) return;
  const int year = k / per_year;
  if (k % per_year == 0) {
    // The year's first level x opens the sum: log_sum_add(x) on the empty sum
    // (-inf, 0) gives (x, 1) for x > -inf and (x, 0) for -inf or a NaN, with
    // no expf (its d is -inf or NaN), so a quarter of the year's expfs go.
    CC_UNROLL
    for (int m = 0; m < kNumMetrics; ++m) {
      CC_UNROLL
      for (int b = 0; b < kNumBlocs; ++b) {
        CC_SIMD
        for (int l = 0; l < L; ++l) {
          const float x = log_metric[m][b][l];
          s.ann_max[m][b][l] = x;
          s.ann_scaled[m][b][l] = x > -INFINITY ? 1.0f : 0.0f;
        }
      }
    }
  } else {
    // log_sum_add in three lane loops per series, the expf alone in the middle
    // one: the vector expf is a call, and around it the host compiler saves
    // and restores every vector register live across it, which in one loop
    // body were most of the sum's (the same operations, so the same bits).
    CC_UNROLL
    for (int m = 0; m < kNumMetrics; ++m) {
      CC_UNROLL
      for (int b = 0; b < kNumBlocs; ++b) {
        float d[L], e[L];
        CC_SIMD
        for (int l = 0; l < L; ++l) d[l] = log_sum_gap(log_metric[m][b][l], s.ann_max[m][b][l]);
        CC_SIMD
        for (int l = 0; l < L; ++l) e[l] = log_sum_exp(d[l]);
        CC_SIMD
        for (int l = 0; l < L; ++l) log_sum_update(log_metric[m][b][l], e[l], s.ann_max[m][b][l], s.ann_scaled[m][b][l]);
      }
    }
  }
  if ((k + 1) % per_year != 0) return;
  s.annual_row = p.periods + year;
  CC_UNROLL
  for (int m = 0; m < kNumMetrics; ++m) {
    CC_SIMD
    for (int l = 0; l < L; ++l) {
      const float ld = log_sum_value(s.ann_max[m][kDomestic][l], s.ann_scaled[m][kDomestic][l]);
      const float lf = log_sum_value(s.ann_max[m][kForeign][l], s.ann_scaled[m][kForeign][l]);
      const SeriesBins bins(ld, lf, LogRatio(ld, lf));
      s.ann_bin[m * kSeriesPerMetric + 0][l] = bins.ratio;
      s.ann_bin[m * kSeriesPerMetric + 1][l] = bins.domestic;
      s.ann_bin[m * kSeriesPerMetric + 2][l] = bins.foreign;
    }
  }
}

}  // namespace chipcast::parity
