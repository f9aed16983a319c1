// The shape of a tally (periods, crossing sub-bins) and the sizes and offsets it implies.
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"

namespace chipcast {

// Every tally, partial tally and view of the same run has the same shape;
// its arrays are
//   level     [period or year][series][kLevelBins]  level_entries()
//   crossing  [metric][crossing_bins()]             crossing_entries()
//   anomalies [kNumAnomalies]
// The crossing histogram has `sub_bins` bins per period, bin j of period k
// covering (T_{k-1} + j*w, T_{k-1} + (j+1)*w] with w = dt / sub_bins
// (T_{-1} = start; time_grid.h), plus one last bin for censored trajectories.
// The level rows of the `years` calendar-year totals (MODEL-v2.md section 6;
// AnnualGrid, time_grid.h) follow the periods' rows, row periods + y for year
// y, so that they are merged, checkpointed and reduced with the period rows.
struct TallyShape {
  int32_t periods = 0;
  int32_t sub_bins = 0;
  int32_t years = 0;  // calendar years tallied; 0: no annual totals

  CC_FUNCTION int crossing_bins() const { return periods * sub_bins + 1; }
  // The last crossing bin: trajectories that never crossed by the horizon.
  CC_FUNCTION int censored_bin() const { return periods * sub_bins; }
  CC_FUNCTION int level_rows() const { return periods + years; }
  CC_FUNCTION int64_t level_entries() const { return static_cast<int64_t>(level_rows()) * kNumSeries * kLevelBins; }
  CC_FUNCTION int64_t crossing_entries() const { return static_cast<int64_t>(kNumMetrics) * crossing_bins(); }
  // Offset of level row (k, series) and of metric's crossing row; k is a
  // period, or annual_row(y) for calendar year y.
  CC_FUNCTION int64_t level_offset(int k, int series) const {
    return (static_cast<int64_t>(k) * kNumSeries + series) * kLevelBins;
  }
  CC_FUNCTION int annual_row(int year) const { return periods + year; }
  CC_FUNCTION int64_t crossing_offset(int metric) const { return static_cast<int64_t>(metric) * crossing_bins(); }
  CC_FUNCTION bool valid() const { return periods > 0 && sub_bins > 0 && years >= 0 && years <= periods; }
  CC_FUNCTION bool operator==(const TallyShape& o) const {
    return periods == o.periods && sub_bins == o.sub_bins && years == o.years;
  }
  CC_FUNCTION bool operator!=(const TallyShape& o) const { return !(*this == o); }
};

}  // namespace chipcast
