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

// Anomalies counted in the kernels and reported by the host, each kind
// separately, over every period and calendar-year value (README, "Anomalies"):
//   kAnomalyNanRatio       a ratio that is NaN while neither level is (both
//                          levels +inf);
//   kAnomalyNanLevel       a bloc level that is NaN (its ratio, undefined
//                          with it, is not counted again);
//   kAnomalyLostPrecision  a ratio of levels whose single-precision logs are
//                          too large to mean anything (kLostPrecisionLog).
enum Anomaly : int { kAnomalyNanRatio = 0, kAnomalyNanLevel = 1, kAnomalyLostPrecision = 2, kNumAnomalies = 3 };

// Level bins handed to a sink for values that are not binned (any negative
// bin is one): anomaly a is bin -1 - a (anomaly_of_bin); kUncountedBin is a
// ratio undefined because one of its levels is NaN, counted with that level.
constexpr int kNanRatioBin = -1 - kAnomalyNanRatio;
constexpr int kNanLevelBin = -1 - kAnomalyNanLevel;
constexpr int kLostPrecisionBin = -1 - kAnomalyLostPrecision;
constexpr int kUncountedBin = -1 - kNumAnomalies;
// The anomaly a negative bin counts, or -1 for none (kUncountedBin).
CC_FUNCTION constexpr int anomaly_of_bin(int bin) { return -1 - bin < kNumAnomalies ? -1 - bin : -1; }

// Lost precision: at |log level| >= 2^13 the spacing of single-precision
// floats is 2^-10 (~0.001) in log units, so a ratio computed from two such
// logs (a difference of numbers of that size after a few hundred periods of
// rounding) is not known to within one histogram bin (0.01 decade, 0.023 in
// log units); a level that large (e^8192 ~ 10^3557) is also no forecast.
constexpr float kLostPrecisionLog = 8192.0f;

// Crossing time (years since start) a sink records for a censored trajectory.
constexpr float kCensoredTime = -1.0f;

// Bin of a natural-log value. `is_zero`/`is_inf` mark exact 0 and +inf; a NaN
// must be filtered by the caller (it is counted as an anomaly, never binned).
// The position is clamped into [-1, kRegularBins] before it is converted to
// int, so the conversion is defined whatever the input (a NaN fails the first
// test and gives kBinUnder; converting NaN itself would be undefined).
CC_FUNCTION int level_bin(float log_value, bool is_zero, bool is_inf) {
  const float pos = (log_value * 0.43429448190325182765f - kLog10Low) * (1.0f / kLog10Width);
  const float top = static_cast<float>(kRegularBins);
  const float c = pos >= 0.0f ? (pos < top ? pos : top) : -1.0f;
  // c = -1 is kBinUnder, c = top kBinOver, both kBinFirstRegular + c.
  static_assert(kBinUnder == kBinFirstRegular - 1 && kBinOver == kBinFirstRegular + kRegularBins, "bin layout");
  int b = kBinFirstRegular + static_cast<int>(c);
  b = is_inf ? kBinInfinite : b;
  return is_zero ? kBinZero : b;
}

}  // namespace chipcast
