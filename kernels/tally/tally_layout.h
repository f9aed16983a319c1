// Bin layout of the mergeable tallies: level/ratio histograms and crossing-time histograms.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"

namespace chipcast {

// Level and ratio histograms: fixed bins of 0.01 decade on log10(value) over
// [10^kLowDecade, 10^kHighDecade), plus four special bins, so that any
// quantile read from them is within 0.01 decade.
constexpr int kLowDecade = -12;
constexpr int kHighDecade = 18;
constexpr int kBinsPerDecade = 100;
constexpr float kLog10Low = static_cast<float>(kLowDecade);
constexpr float kLog10Width = 1.0f / kBinsPerDecade;                       // 0.01f
constexpr int kRegularBins = (kHighDecade - kLowDecade) * kBinsPerDecade;  // 3000
constexpr int kBinZero = 0;                                                // value exactly 0
constexpr int kBinUnder = 1;                                               // 0 < value < 10^kLowDecade
constexpr int kBinFirstRegular = 2;
constexpr int kBinOver = kBinFirstRegular + kRegularBins;  // value >= 10^kHighDecade, finite
constexpr int kBinInfinite = kBinOver + 1;                 // +inf (ratio with foreign = 0)
constexpr int kLevelBins = kBinInfinite + 1;
// The kernels bin with 1/kLog10Width bins per decade; the host reads a bin's
// edges back with kBinsPerDecade, so both must be the same number exactly.
static_assert(1.0f / kLog10Width == static_cast<float>(kBinsPerDecade), "bin width and bins per decade disagree");

// 10^d as a double, for |d| <= 22 the correctly rounded value the literal
// 1e<d> gives (10^|d| is exact, and one division rounds correctly).
constexpr double power_of_ten(int d) {
  double p = 1.0;
  for (int i = 0; i < (d < 0 ? -d : d); ++i) p *= 10.0;
  return d < 0 ? 1.0 / p : p;
}
// What the host reports for a value in kBinUnder / kBinOver: the range's ends.
constexpr double kLevelRangeLow = power_of_ten(kLowDecade);    // 1e-12
constexpr double kLevelRangeHigh = power_of_ten(kHighDecade);  // 1e18

// log10 of the point a fraction f in [0, 1] through regular bin b.
constexpr double regular_bin_log10(int b, double f) {
  return kLowDecade + (static_cast<double>(b - kBinFirstRegular) + f) / kBinsPerDecade;
}

// Series per metric: the ratio and each bloc's level.
constexpr int kNumMetrics = 3;       // units, compute, memory
constexpr int kSeriesPerMetric = 3;  // ratio, domestic, foreign
constexpr int kNumSeries = kNumMetrics * kSeriesPerMetric;

// Anomalies counted in the kernels and reported by the host.
enum Anomaly : int { kAnomalyNanRatio = 0, kNumAnomalies = 1 };

// Level bin handed to a sink for a NaN ratio: any negative bin is one, and
// goes to kAnomalyNanRatio (sinks.h), never into a histogram.
constexpr int kNanLevelBin = -1;
// Crossing time (years since start) a sink records for a censored trajectory.
constexpr float kCensoredTime = -1.0f;

// Bin of a natural-log value. `is_zero`/`is_inf` mark exact 0 and +inf; a NaN
// must be filtered by the caller (it is counted as an anomaly, never binned).
CC_FUNCTION int level_bin(float log_value, bool is_zero, bool is_inf) {
  const float pos = (log_value * 0.43429448190325182765f - kLog10Low) * (1.0f / kLog10Width);
  int b = pos < 0.0f ? kBinUnder
                     : (pos >= static_cast<float>(kRegularBins) ? kBinOver : kBinFirstRegular + static_cast<int>(pos));
  b = is_inf ? kBinInfinite : b;
  return is_zero ? kBinZero : b;
}

}  // namespace chipcast
