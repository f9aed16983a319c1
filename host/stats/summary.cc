// Crossing probabilities, Wilson intervals, crossing-year and band quantiles from a merged Tally.
#include "host/stats/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace chipcast {

// The text names the layout's range and bin width (kernels/tally/tally_layout.h).
static_assert(kLowDecade == -12 && kHighDecade == 18 && kBinsPerDecade == 100,
              "kQuantileMethod describes a different bin layout: update it");
const char* const kQuantileMethod =
    "Crossing-year q-quantile: the upper edge of the first crossing-time bin (width dt/sub_bins "
    "<= 0.01 year) at which the cumulative share of trajectories crossed reaches q, so "
    "P(parity by T) >= q holds at the reported T and T exceeds the exact sample quantile by less "
    "than one bin width; censored trajectories count as never crossing and the quantile is null "
    "(after the horizon) when P(parity by horizon) < q. Band q-quantile: read from 0.01-decade "
    "histograms of log10(value): in the bin holding the ceil(q*N)-th smallest value (N = binned "
    "values, NaN excluded), interpolated linearly in log10 within the bin (within 0.01 decade of "
    "the sample value); values below 1e-12 are reported as 1e-12, values at or above 1e18 as "
    "1e18, exact zeros as 0 and infinite ratios as inf.";

namespace {

// Cumulative-share test shared by both quantile rules: the exact rational
// cum/total and the decimal q round to the same double when they are equal,
// so "q exactly reached" is recognised.
bool share_reaches(uint64_t cum, uint64_t total, double q) {
  return static_cast<double>(cum) / static_cast<double>(total) >= q;
}

std::string year_str(double y) { return fmt::format("{:.2f}", y); }

}  // namespace

TimeGrid report_grid(TallyShape shape, const RunSettings& run) {
  return TimeGrid{run.start_year, run.dt, shape.periods, shape.sub_bins};
}

std::optional<double> crossing_year_quantile(const uint64_t* counts, const TimeGrid& grid, uint64_t trajectories,
                                             double q) {
  if (!(q > 0.0 && q <= 1.0))
    throw std::invalid_argument(fmt::format("crossing-year quantile level {} is outside (0, 1]", q));
  if (trajectories == 0) return std::nullopt;
  const int bins = grid.time_bins();  // the censored bin (index `bins`) never counts
  uint64_t cum = 0;
  for (int b = 0; b < bins; ++b) {
    cum += counts[b];
    if (counts[b] > 0 && share_reaches(cum, trajectories, q)) return grid.bin_upper_edge(b);
  }
  return std::nullopt;
}

Interval wilson_interval(uint64_t successes, uint64_t n, double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0))
    throw std::invalid_argument(fmt::format("confidence {} is outside (0, 1)", confidence));
  if (successes > n) throw std::invalid_argument(fmt::format("{} successes out of {} trials", successes, n));
  if (n == 0) return {0.0, 1.0};
  const boost::math::normal_distribution<double> standard_normal(0.0, 1.0);
  const double z = boost::math::quantile(standard_normal, 1.0 - (1.0 - confidence) / 2.0);
  const double nd = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nd;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nd;
  const double center = (p + z2 / (2.0 * nd)) / denom;
  const double half = z / denom * std::sqrt(p * (1.0 - p) / nd + z2 / (4.0 * nd * nd));
  // The closed form gives exactly 0 / 1 at the extremes; pin them against rounding.
  const double lo = successes == 0 ? 0.0 : std::max(0.0, center - half);
  const double hi = successes == n ? 1.0 : std::min(1.0, center + half);
  return {lo, hi};
}

double histogram_quantile(const uint64_t* counts, double q, LevelBinKind* kind) {
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument(fmt::format("band quantile level {} is outside [0, 1]", q));
  uint64_t total = 0;
  for (int b = 0; b < kLevelBins; ++b) total += counts[b];
  LevelBinKind used = LevelBinKind::kEmpty;
  double value = std::numeric_limits<double>::quiet_NaN();
  if (total > 0) {
    uint64_t cum = 0;
    int b = 0;
    for (; b < kLevelBins; ++b) {
      cum += counts[b];
      if (counts[b] > 0 && share_reaches(cum, total, q)) break;
    }
    // q <= 1 guarantees a hit at the last non-empty bin.
    if (b == kBinZero) {
      used = LevelBinKind::kZero;
      value = 0.0;
    } else if (b == kBinUnder) {
      used = LevelBinKind::kUnder;
      value = kLevelRangeLow;
    } else if (b == kBinOver) {
      used = LevelBinKind::kOver;
      value = kLevelRangeHigh;
    } else if (b == kBinInfinite) {
      used = LevelBinKind::kInfinite;
      value = std::numeric_limits<double>::infinity();
    } else {
      used = LevelBinKind::kRegular;
      const double before = static_cast<double>(cum - counts[b]);
      double f = (q * static_cast<double>(total) - before) / static_cast<double>(counts[b]);
      f = std::clamp(f, 0.0, 1.0);
      // The kernels bin with 1/kLog10Width == kBinsPerDecade bins per decade from kLowDecade exactly.
      value = std::pow(10.0, regular_bin_log10(b, f));
    }
  }
  if (kind) *kind = used;
  return value;
}

namespace {

// Band quantiles clamped to the histogram's range, gathered per (metric,
// series, direction) so a long run of clamped periods gives one note.
struct ClampRecord {
  bool quantile_hit[5] = {false, false, false, false, false};
  int period_ends = 0;
  double first_year = 0, last_year = 0;
  void add(double year, int qi, bool new_period) {
    quantile_hit[qi] = true;
    if (new_period) {
      if (period_ends == 0) first_year = year;
      last_year = year;
      ++period_ends;
    }
  }
};

std::string quantile_list(const ClampRecord& r) {
  static constexpr const char* kLabels[5] = {"q05", "q25", "q50", "q75", "q95"};
  std::string s;
  int n = 0;
  for (int i = 0; i < 5; ++i) {
    if (!r.quantile_hit[i]) continue;
    if (n++ > 0) s += ", ";
    s += kLabels[i];
  }
  return s + (n > 1 ? " lie" : " lies");
}

// `rows_noun` names the rows: "period ends" or "calendar years".
std::string clamp_note(const std::string& what, const ClampRecord& r, const char* where, const char* reported,
                       const char* rows_noun) {
  if (r.period_ends == 1)
    return fmt::format("{} {} at {} {}; reported as {}", what, quantile_list(r), year_str(r.first_year), where,
                       reported);
  return fmt::format("{} {} {} at {} {} from {} to {}; reported as {}", what, quantile_list(r), where, r.period_ends,
                     rows_noun, year_str(r.first_year), year_str(r.last_year), reported);
}

// The band rows of `count` level rows starting at tally row `first_row`
// (row first_row + i is dated year_of(i)), metric-major, then series, then
// row, appended to `out`, with their clamping and empty-row notes. `label`
// prefixes the notes' names ("" for periods, "annual " for calendar years).
template <class YearOf>
void read_bands(const Tally& tally, int first_row, int count, YearOf year_of, const char* label, const char* rows_noun,
                std::vector<BandRow>& out, std::vector<std::string>& notes) {
  // The ends of the level histograms' range, as the notes name them ("1e-12", "1e18").
  const std::string low = fmt::format("1e{}", kLowDecade), high = fmt::format("1e{}", kHighDecade);
  const std::string low_where = "below the histogram range (< " + low + ")";
  const std::string high_where = "above the histogram range (>= " + high + ")";
  out.reserve(out.size() + static_cast<size_t>(kNumSeries) * count);
  for (int m = 0; m < kNumMetrics; ++m) {
    for (int se = 0; se < kSeriesPerMetric; ++se) {
      ClampRecord under, over;
      int empty = 0;
      for (int k = 0; k < count; ++k) {
        BandRow br{};
        br.metric = m;
        br.series = se;
        br.year = year_of(k);
        const uint64_t* row = tally.level_row(first_row + k, m * kSeriesPerMetric + se);
        bool under_here = false, over_here = false, empty_here = false;
        for (int qi = 0; qi < 5; ++qi) {
          LevelBinKind kind{};
          br.q[qi] = histogram_quantile(row, kBandQuantiles[qi], &kind);
          if (kind == LevelBinKind::kUnder) {
            under.add(br.year, qi, !under_here);
            under_here = true;
          } else if (kind == LevelBinKind::kOver) {
            over.add(br.year, qi, !over_here);
            over_here = true;
          } else if (kind == LevelBinKind::kEmpty) {
            empty_here = true;
          }
        }
        empty += empty_here;
        out.push_back(br);
      }
      const std::string what = fmt::format("{}{} {}", label, kMetricNames[m], kSeriesNames[se]);
      if (under.period_ends > 0) notes.push_back(clamp_note(what, under, low_where.c_str(), low.c_str(), rows_noun));
      if (over.period_ends > 0) notes.push_back(clamp_note(what, over, high_where.c_str(), high.c_str(), rows_noun));
      if (empty > 0 && tally.trajectories > 0)
        notes.push_back(
            fmt::format("{}: no binned values at {} {}; quantiles reported as nan", what, empty, rows_noun));
    }
  }
}

}  // namespace

std::string annual_unavailable_reason(double start_year, double dt, int periods) {
  const AnnualGrid g = annual_grid(start_year, dt, periods);
  if (g.years > 0) return {};
  if (g.per_year == 0) {
    const double inv = 1.0 / dt;
    if (!(std::fabs(inv - std::round(inv)) <= 1e-9) || !(inv >= 1))
      return fmt::format("1/dt = {:g} is not a whole number, so periods do not tile calendar years", inv);
    return fmt::format("start_year {:g} is not on a year boundary", start_year);
  }
  return fmt::format("the run covers {:g} years, less than one calendar year", periods * dt);
}

Summary summarize(const Tally& tally, const RunSettings& run) {
  if (tally.shape.periods < 0 || tally.shape.sub_bins < 1)
    throw std::invalid_argument(
        fmt::format("tally has an invalid shape ({} periods, {} sub-bins)", tally.shape.periods, tally.shape.sub_bins));
  Summary s;
  const uint64_t n = tally.trajectories;
  const TimeGrid grid = report_grid(tally.shape, run);
  const int periods = grid.periods;
  const int sub = grid.sub_bins;
  s.trajectories = n;

  const double implied = std::round((run.horizon_year - run.start_year) / run.dt);
  if (implied != static_cast<double>(periods))
    s.notes.push_back(
        fmt::format("the tally has {} periods but start_year {}, horizon_year {} and dt {} imply {}; years "
                    "follow the tally",
                    periods, run.start_year, run.horizon_year, run.dt, implied));
  if (n == 0) s.notes.push_back("no trajectories were run; probabilities are 0 and quantiles null");

  for (int m = 0; m < kNumMetrics; ++m) {
    MetricSummary& ms = s.metrics[m];
    ms.name = kMetricNames[m];
    const uint64_t* row = tally.crossing_row(m);
    uint64_t row_total = 0;
    for (int b = 0; b < tally.shape.crossing_bins(); ++b) row_total += row[b];
    if (row_total != n)
      s.notes.push_back(
          fmt::format("{}: the crossing histogram holds {} trajectories, the tally {}", ms.name, row_total, n));
    ms.crossing.reserve(periods);
    uint64_t cum = 0;
    for (int k = 0; k < periods; ++k) {
      for (int j = 0; j < sub; ++j) cum += row[k * sub + j];
      if (cum > n)
        throw std::invalid_argument(
            fmt::format("inconsistent tally: {} {} trajectories crossed by period {} of {} run", cum, ms.name, k, n));
      CrossingRow r{};
      r.year = grid.period_end(k);
      r.p_crossed = n ? static_cast<double>(cum) / static_cast<double>(n) : 0.0;
      r.stderr_mc = n ? std::sqrt(r.p_crossed * (1.0 - r.p_crossed) / static_cast<double>(n)) : 0.0;
      const Interval ci = wilson_interval(cum, n);
      r.lo95 = ci.lo;
      r.hi95 = ci.hi;
      ms.crossing.push_back(r);
    }
    if (n > 0) {
      ms.p_parity_by_horizon = static_cast<double>(cum) / static_cast<double>(n);
      ms.p_no_parity_by_horizon = static_cast<double>(n - cum) / static_cast<double>(n);
    }
    ms.q05 = crossing_year_quantile(row, grid, n, 0.05);
    ms.q50 = crossing_year_quantile(row, grid, n, 0.50);
    ms.q95 = crossing_year_quantile(row, grid, n, 0.95);
  }

  read_bands(
      tally, 0, periods, [&](int k) { return grid.period_end(k); }, "", "period ends", s.bands, s.notes);
  // Calendar-year rows follow the period rows (TallyShape::annual_row).
  s.annual_years = tally.shape.years;
  if (tally.shape.years > 0) {
    const double first_year = std::round(run.start_year);
    read_bands(
        tally, tally.shape.annual_row(0), tally.shape.years, [&](int y) { return first_year + y; }, "annual ",
        "calendar years", s.annual, s.notes);
  } else {
    s.annual_reason = annual_unavailable_reason(run.start_year, run.dt, periods);
    if (s.annual_reason.empty()) s.annual_reason = "the tally has no calendar-year rows";
  }
  s.anomalies.nan_ratios = tally.anomalies[kAnomalyNanRatio];
  s.anomalies.nan_levels = tally.anomalies[kAnomalyNanLevel];
  s.anomalies.lost_precision = tally.anomalies[kAnomalyLostPrecision];
  if (s.anomalies.nan_ratios > 0)
    s.notes.push_back(
        fmt::format("{} ratio values were NaN while both levels were not (anomalies.nan_ratios) and are "
                    "left out of the ratio bands",
                    s.anomalies.nan_ratios));
  if (s.anomalies.nan_levels > 0)
    s.notes.push_back(
        fmt::format("{} bloc level values were NaN (anomalies.nan_levels); they and their ratios are "
                    "left out of the bands",
                    s.anomalies.nan_levels));
  if (s.anomalies.lost_precision > 0)
    s.notes.push_back(fmt::format(
        "{} ratio values came from levels whose logs are {:g} or more in magnitude, beyond single precision "
        "(anomalies.lost_precision); they are left out of the ratio bands, but crossings detected from them are "
        "noise",
        s.anomalies.lost_precision, static_cast<double>(kLostPrecisionLog)));
  return s;
}

}  // namespace chipcast
