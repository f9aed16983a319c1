// Turns a merged Tally into the numbers a run reports: crossing probabilities, crossing-year quantiles, bands.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/config/scenario.h"
#include "kernels/tally/time_grid.h"
#include "tally/tally.h"

namespace chipcast {

// P(parity by `year`) for one period end, with its Monte Carlo standard error
// sqrt(p(1-p)/N) and 95 % Wilson score interval.
struct CrossingRow {
  double year;
  double p_crossed;
  double stderr_mc;
  double lo95;
  double hi95;
};

struct MetricSummary {
  std::string name;  // "units", "compute", "memory"
  double p_parity_by_horizon = 0, p_no_parity_by_horizon = 1;
  std::optional<double> q05, q50, q95;  // crossing-year quantiles; nullopt = after the horizon
  std::vector<CrossingRow> crossing;    // one row per period end T_k = start + (k+1)*dt
};

// Quantiles q05 q25 q50 q75 q95 of a value (not its log) at one period end.
struct BandRow {
  int metric;  // 0 units, 1 compute, 2 memory
  int series;  // 0 ratio, 1 domestic, 2 foreign
  double year;
  double q[5];
};

// Anomaly counts per kind (kernels/tally/tally_layout.h), over period and calendar-year values.
struct AnomalyCounts {
  uint64_t nan_ratios = 0;      // a ratio NaN while neither level is
  uint64_t nan_levels = 0;      // a bloc level NaN
  uint64_t lost_precision = 0;  // a ratio of levels too large for single precision
  uint64_t total() const { return nan_ratios + nan_levels + lost_precision; }
};

struct Summary {
  uint64_t trajectories = 0;
  std::array<MetricSummary, 3> metrics;
  std::vector<BandRow> bands;  // metric-major, then series (ratio, domestic, foreign), then period
  // Calendar-year totals (annual.csv): BandRow::year is the calendar year;
  // same order as bands, one row per year. Empty with `annual_reason` saying
  // why when the grid has no whole calendar years.
  std::vector<BandRow> annual;
  int annual_years = 0;
  std::string annual_reason;
  AnomalyCounts anomalies;
  std::vector<std::string> notes;  // caveats, e.g. quantiles clamped at the histogram's range
};

// Why a run on this grid tallies no calendar-year totals (MODEL-v2.md
// section 6: 1/dt not a whole number, start_year not a whole year, less than
// one year simulated); empty when it does.
std::string annual_unavailable_reason(double start_year, double dt, int periods);

// Band quantile levels, in BandRow::q order.
inline constexpr std::array<double, 5> kBandQuantiles = {0.05, 0.25, 0.50, 0.75, 0.95};
inline constexpr std::array<const char*, 3> kMetricNames = {"units", "compute", "memory"};
inline constexpr std::array<const char*, 3> kSeriesNames = {"ratio", "domestic", "foreign"};

// One sentence describing the quantile rules below (written into summary.json).
extern const char* const kQuantileMethod;

// Summarises a tally whose periods start at run.start_year and last run.dt
// years each. Years follow the tally's shape; a mismatch with the horizon
// implied by `run` is reported in `notes`, not thrown. The calendar-year rows
// (tally.shape.years of them) are read exactly as the period rows are.
Summary summarize(const Tally& tally, const RunSettings& run);

// The time grid a tally of `shape` summarised with `run` reports on: run's
// start and dt, the tally's periods and sub-bins.
TimeGrid report_grid(TallyShape shape, const RunSettings& run);

// The crossing-year q-quantile, q in (0, 1]: the smallest T with
// P(parity by T) >= q, read from the fine crossing histogram `counts` on
// `grid` (grid.shape().crossing_bins() entries, the last one censored). It is
// the UPPER edge (TimeGrid::bin_upper_edge) of the first bin whose cumulative count c satisfies
// c / trajectories >= q, so P(parity by T) >= q holds exactly at the reported
// T, and T exceeds the exact sample quantile by less than one bin width
// (dt / sub_bins <= 0.01 year). Censored trajectories never count as crossed:
// nullopt ("after the horizon") when P(parity by horizon) < q, or when
// trajectories == 0. Throws std::invalid_argument for q outside (0, 1].
std::optional<double> crossing_year_quantile(const uint64_t* counts, const TimeGrid& grid, uint64_t trajectories,
                                             double q);

struct Interval {
  double lo, hi;
};

// Wilson score interval for a binomial proportion, z = Phi^-1(1 - (1 - confidence)/2)
// from Boost.Math. n == 0 gives [0, 1]. Throws std::invalid_argument when
// successes > n or confidence is outside (0, 1).
Interval wilson_interval(uint64_t successes, uint64_t n, double confidence = 0.95);

// Which kind of level bin a histogram quantile was read from.
enum class LevelBinKind { kRegular, kZero, kUnder, kOver, kInfinite, kEmpty };

// The q-quantile (q in [0, 1]) of a level histogram of kLevelBins counts
// (kernels/tally/tally_layout.h). With N_h the row's total (NaN never binned), it
// lies in the first non-empty bin whose cumulative count reaches q * N_h,
// i.e. the bin holding the ceil(q * N_h)-th smallest value; inside a regular
// bin it is interpolated linearly in log10, so it is within 0.01 decade of
// that sample value. Special bins give 0 (zero), kLevelRangeLow (1e-12, under
// the range), kLevelRangeHigh (1e18, over the range) and +inf (infinite); an
// empty row gives NaN.
// `kind`, when given, receives the bin kind used.
double histogram_quantile(const uint64_t* counts, double q, LevelBinKind* kind = nullptr);

}  // namespace chipcast
