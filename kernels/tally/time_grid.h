// The run's time grid: period ends, crossing-bin edges and the bin of a crossing time.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_shape.h"

namespace chipcast {

// Sub-bins per period so that a crossing bin is at most 0.01 year wide.
CC_FUNCTION int sub_bins_for(double dt) {
  int m = static_cast<int>(ceil(dt / 0.01 - 1e-9));
  return m < 1 ? 1 : m;
}

// Periods k = 0..periods-1 of dt years from start_year, period k ending at
// T_k = start_year + (k+1)*dt; each period split into sub_bins crossing bins
// of width dt / sub_bins (bin j of period k covers
// (T_{k-1} + j*w, T_{k-1} + (j+1)*w], T_{-1} = start_year).
struct TimeGrid {
  double start_year = 0;
  double dt = 0;
  int32_t periods = 0;
  int32_t sub_bins = 0;

  CC_FUNCTION TallyShape shape() const { return TallyShape{periods, sub_bins}; }
  // The same periods with `factor` times as many bins per period.
  CC_FUNCTION TimeGrid refined(int factor) const { return TimeGrid{start_year, dt, periods, sub_bins * factor}; }

  CC_FUNCTION double period_start(int k) const { return start_year + dt * static_cast<double>(k); }
  CC_FUNCTION double period_end(int k) const { return start_year + dt * static_cast<double>(k + 1); }
  CC_FUNCTION double horizon() const { return period_end(periods - 1); }
  CC_FUNCTION double bin_width() const { return dt / sub_bins; }
  // Bins before the censored one.
  CC_FUNCTION int time_bins() const { return periods * sub_bins; }

  // Upper edge of crossing bin `bin` (< time_bins()): with k = bin / sub_bins
  // and j = bin % sub_bins, start + dt * (k + (j+1)/sub_bins); equals the
  // period end T_k exactly when j = sub_bins - 1.
  CC_FUNCTION double bin_upper_edge(int bin) const {
    const int k = bin / sub_bins;
    const int j = bin % sub_bins;
    return start_year + dt * (static_cast<double>(k) + static_cast<double>(j + 1) / sub_bins);
  }

  // Bin (t in (b w, (b+1) w]) of a crossing time t (years since start), or
  // time_bins() (the censored bin) when t < 0. A crossing dated exactly on a
  // bin edge (T_k itself) belongs to the bin it closes; the small tolerance
  // keeps k*dt / w from rounding up past it.
  CC_FUNCTION int bin_of(float t) const {
    if (t < 0.0f) return time_bins();
    const int b = static_cast<int>(ceil(static_cast<double>(t) / bin_width() - 1e-6)) - 1;
    return b < 0 ? 0 : (b > time_bins() - 1 ? time_bins() - 1 : b);
  }
};

}  // namespace chipcast
