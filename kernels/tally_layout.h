// Bin layout of the mergeable tallies: level/ratio histograms and crossing-time histograms.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"

namespace chipcast {

// Level and ratio histograms: fixed bins of 0.01 decade on log10(value) over
// [kLog10Low, kLog10Low + kRegularBins * kLog10Width), plus four special bins,
// so that any quantile read from them is within 0.01 decade.
constexpr float kLog10Low = -12.0f;
constexpr float kLog10Width = 0.01f;
constexpr int kRegularBins = 3000;           // -12 .. +18 decades
constexpr int kBinZero = 0;                  // value exactly 0
constexpr int kBinUnder = 1;                 // 0 < value < 1e-12
constexpr int kBinFirstRegular = 2;
constexpr int kBinOver = kBinFirstRegular + kRegularBins;  // value >= 1e18, finite
constexpr int kBinInfinite = kBinOver + 1;                 // +inf (ratio with foreign = 0)
constexpr int kLevelBins = kBinInfinite + 1;

// Series per metric: the ratio and each bloc's level.
constexpr int kNumMetrics = 3;  // units, compute, memory
constexpr int kSeriesPerMetric = 3;  // ratio, domestic, foreign
constexpr int kNumSeries = kNumMetrics * kSeriesPerMetric;

// Anomalies counted in the kernels and reported by the host.
enum Anomaly : int { kAnomalyNanRatio = 0, kNumAnomalies = 1 };

// Bin of a natural-log value. `is_zero`/`is_inf` mark exact 0 and +inf; a NaN
// must be filtered by the caller (it is counted as an anomaly, never binned).
CC_FUNCTION int level_bin(float log_value, bool is_zero, bool is_inf) {
  const float pos = (log_value * 0.43429448190325182765f - kLog10Low) * (1.0f / kLog10Width);
  int b = pos < 0.0f ? kBinUnder
                     : (pos >= static_cast<float>(kRegularBins)
                            ? kBinOver
                            : kBinFirstRegular + static_cast<int>(pos));
  b = is_inf ? kBinInfinite : b;
  return is_zero ? kBinZero : b;
}

// Crossing-time histogram: `sub_bins` bins per period, bin j of period k
// covering (T_{k-1} + j*w, T_{k-1} + (j+1)*w] with w = dt / sub_bins
// (T_{-1} = start), plus one last bin for censored trajectories.
CC_FUNCTION int crossing_bins(int periods, int sub_bins) { return periods * sub_bins + 1; }

// Sub-bins per period so that a bin is at most 0.01 year wide.
CC_FUNCTION int sub_bins_for(double dt) {
  int m = static_cast<int>(ceil(dt / 0.01 - 1e-9));
  return m < 1 ? 1 : m;
}

}  // namespace chipcast
