// The level bins of a metric's three series (ratio, domestic, foreign) from its two log levels, anomalies included.
#pragma once
#include <math.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/log_ratio.h"

namespace chipcast::parity {

// True when both levels are finite with |log| < kLostPrecisionLog (a NaN fails
// the test): SeriesBins and LogRatio then need none of their special cases.
CC_FUNCTION bool finite_levels(float ld, float lf) {
  return (fabsf(ld) < kLostPrecisionLog) & (fabsf(lf) < kLostPrecisionLog);
}

// One rule for a period's levels (metric_step.h) and a calendar year's sums
// (annual_step.h). A NaN level is kNanLevelBin and makes its ratio
// kUncountedBin (counted once, as the level); a NaN ratio of two levels that
// are not NaN (both +inf) is kNanRatioBin; a ratio of levels whose logs are at
// least kLostPrecisionLog in magnitude is kLostPrecisionBin unless it is
// exactly 0 or +inf (an empty bloc: exact whatever the other level).
struct SeriesBins {
  int ratio;
  int domestic;
  int foreign;

  // A constructor, as LogRatio's: g++ keeps the lane loop around it vectorised.
  CC_FUNCTION SeriesBins(float ld, float lf, const LogRatio& r) {
    const bool nan_d = is_nan_bits(ld);
    const bool nan_f = is_nan_bits(lf);
    const bool lost = (!r.zero) & (!r.inf) & ((fabsf(ld) >= kLostPrecisionLog) | (fabsf(lf) >= kLostPrecisionLog));
    int b = level_bin(r.log_r, r.zero, r.inf);
    b = lost ? kLostPrecisionBin : b;
    b = r.nan ? kNanRatioBin : b;
    ratio = (nan_d | nan_f) ? kUncountedBin : b;
    domestic = nan_d ? kNanLevelBin : level_bin(ld, ld == -INFINITY, ld == INFINITY);
    foreign = nan_f ? kNanLevelBin : level_bin(lf, lf == -INFINITY, lf == INFINITY);
  }
  // The same for finite levels (finite_levels): no anomaly, zero or infinity.
  CC_FUNCTION SeriesBins(float ld, float lf, const LogRatio& r, LogRatio::FiniteLevels)
      : ratio(level_bin(r.log_r, false, false)),
        domestic(level_bin(ld, false, false)),
        foreign(level_bin(lf, false, false)) {}
};

}  // namespace chipcast::parity
