// The run's time grid: period ends, crossing-bin edges and the bin of a crossing time.
#pragma once
#include <math.h>
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_shape.h"

namespace chipcast {

// Sub-bins per period so that a crossing bin is at most 0.01 year wide.
// Clamped before the conversion, so that a NaN or huge dt (refused by the
// config layer) still converts a value in range: never undefined.
CC_FUNCTION int sub_bins_for(double dt) {
  const double m = ceil(dt / 0.01 - 1e-9);
  return m >= 1.0 ? (m <= 1e9 ? static_cast<int>(m) : 1000000000) : 1;
}

// Calendar years of a grid (MODEL-v2.md section 6). When 1/dt is a whole
// number n (within 1e-9) and start_year a whole year (within 1e-9), year y
// (the calendar year start_year + y) is periods [y n, (y+1) n), and `years`
// counts the years fully simulated (a last, partial year is not tallied);
// otherwise per_year = years = 0: no annual totals.
struct AnnualGrid {
  int32_t per_year = 0;  // periods per year, n
  int32_t years = 0;
};

CC_FUNCTION AnnualGrid annual_grid(double start_year, double dt, int32_t periods) {
  AnnualGrid g;
  const double inv = 1.0 / dt;
  const double n = floor(inv + 0.5);
  // Written so that a NaN or infinite input fails every test.
  const bool whole_dt = dt > 0.0 && n >= 1.0 && n <= 1e9 && fabs(inv - n) <= 1e-9;
  const bool whole_start = fabs(start_year - floor(start_year + 0.5)) <= 1e-9;
  if (!whole_dt || !whole_start || periods <= 0) return g;
  g.per_year = static_cast<int32_t>(n);
  g.years = periods / g.per_year;
  return g;
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
  // The position is clamped to [1, time_bins()] before it is converted, so a
  // NaN or huge t converts a value in range (NaN goes to the first bin).
  CC_FUNCTION int bin_of(float t) const {
    if (t < 0.0f) return time_bins();
    const double c = ceil(static_cast<double>(t) / bin_width() - 1e-6);
    const double last = static_cast<double>(time_bins());
    return static_cast<int>(c >= 1.0 ? (c <= last ? c : last) : 1.0) - 1;
  }
};

}  // namespace chipcast
