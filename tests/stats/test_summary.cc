// Tests of host/stats: crossing probabilities, Wilson intervals, crossing-year and band quantiles.
#include "host/stats/summary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/tally/tally_layout.h"

namespace chipcast {
namespace {

// Bins a value exactly as the kernels do (natural log in float, 0 and +inf flagged).
int bin_of(double x) {
  const bool zero = x == 0.0;
  const bool inf = std::isinf(x);
  const float lv = (zero || inf) ? 0.0f : std::log(static_cast<float>(x));
  return level_bin(lv, zero, inf);
}

std::vector<uint64_t> histogram_of(const std::vector<double>& xs) {
  std::vector<uint64_t> h(kLevelBins, 0);
  for (double x : xs) ++h[bin_of(x)];
  return h;
}

// The exact sample quantile the histogram rule targets: the ceil(q*N)-th
// smallest value (inverse of the empirical CDF), the smallest for q = 0.
double sample_quantile(std::vector<double> xs, double q) {
  std::sort(xs.begin(), xs.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(xs.size())));
  if (rank < 1) rank = 1;
  return xs[rank - 1];
}

double z_for(double confidence) {
  return boost::math::quantile(boost::math::normal_distribution<double>(), 1.0 - (1.0 - confidence) / 2.0);
}

// Wilson score interval written out independently: roots of
// (p - pi)^2 = z^2 pi (1 - pi) / n, a quadratic in pi.
Interval wilson_roots(double s, double n, double z) {
  const double p = s / n;
  const double a = 1.0 + z * z / n;
  const double b = -(2.0 * p + z * z / n);
  const double c = p * p;
  const double disc = std::sqrt(std::max(0.0, b * b - 4.0 * a * c));
  return {(-b - disc) / (2.0 * a), (-b + disc) / (2.0 * a)};
}

RunSettings settings(double start, double horizon, double dt) {
  RunSettings r;
  r.start_year = start;
  r.horizon_year = horizon;
  r.dt = dt;
  return r;
}

// ---- Wilson interval -------------------------------------------------------

TEST(WilsonInterval, TextbookEightOfTen) {
  // Wilson (1927) / Newcombe (1998): 8 of 10 gives 0.4902 .. 0.9433 at 95 %.
  const Interval ci = wilson_interval(8, 10);
  EXPECT_NEAR(ci.lo, 0.4902, 5e-5);
  EXPECT_NEAR(ci.hi, 0.9433, 5e-5);
}

TEST(WilsonInterval, MatchesQuadraticRoots) {
  for (double conf : {0.95, 0.90, 0.99}) {
    const double z = z_for(conf);
    for (auto [s, n] : std::vector<std::pair<uint64_t, uint64_t>>{
             {1, 2}, {3, 7}, {8, 10}, {50, 100}, {1, 1000}, {999, 1000}, {123456, 1000000}}) {
      const Interval got = wilson_interval(s, n, conf);
      const Interval want = wilson_roots(static_cast<double>(s), static_cast<double>(n), z);
      EXPECT_NEAR(got.lo, want.lo, 1e-12) << s << "/" << n << " at " << conf;
      EXPECT_NEAR(got.hi, want.hi, 1e-12) << s << "/" << n << " at " << conf;
    }
  }
}

TEST(WilsonInterval, UsesBoostQuantileNotHardCodedZ) {
  // At 95 % the z used must be Phi^-1(0.975) = 1.959963985..., not 1.96.
  const double z = z_for(0.95);
  EXPECT_NE(z, 1.96);
  const Interval got = wilson_interval(30, 100);
  const Interval with_boost = wilson_roots(30, 100, z);
  const Interval with_196 = wilson_roots(30, 100, 1.96);
  EXPECT_NEAR(got.lo, with_boost.lo, 1e-14);
  EXPECT_GT(std::fabs(got.lo - with_196.lo), 1e-7);
}

TEST(WilsonInterval, Extremes) {
  Interval ci = wilson_interval(0, 0);
  EXPECT_EQ(ci.lo, 0.0);
  EXPECT_EQ(ci.hi, 1.0);
  ci = wilson_interval(0, 20);
  EXPECT_EQ(ci.lo, 0.0);
  const double z = z_for(0.95);
  EXPECT_NEAR(ci.hi, z * z / (20 + z * z), 1e-14);  // closed form at s = 0
  ci = wilson_interval(20, 20);
  EXPECT_EQ(ci.hi, 1.0);
  EXPECT_NEAR(ci.lo, 20 / (20 + z * z), 1e-14);
  EXPECT_THROW(wilson_interval(3, 2), std::invalid_argument);
  EXPECT_THROW(wilson_interval(1, 2, 1.0), std::invalid_argument);
}

// ---- crossing probabilities and quantiles ----------------------------------

// 4 periods of 0.25 year from 2026, 25 sub-bins (0.01 year) each.
class CrossingTest : public ::testing::Test {
 protected:
  static constexpr int kPeriods = 4, kSub = 25;
  Tally t{kPeriods, kSub};
  RunSettings run = settings(2026.0, 2027.0, 0.25);
  uint64_t* row(int metric) { return t.crossing.data() + static_cast<size_t>(metric) * t.shape.crossing_bins(); }
  int censored_bin() const { return kPeriods * kSub; }
};

TEST_F(CrossingTest, ProbabilityByPeriodEndAndIntervals) {
  // units: 10 cross in period 0 (bin 3), 20 in period 1 (bins 25 and 49),
  // none in period 2, 30 in period 3 (last bin), 40 censored.
  uint64_t* u = row(0);
  u[3] = 10;
  u[25] = 5;
  u[49] = 15;
  u[3 * kSub + kSub - 1] = 30;
  u[censored_bin()] = 40;
  row(1)[censored_bin()] = 100;  // compute never crosses
  row(2)[0] = 100;               // memory crosses at once
  t.trajectories = 100;
  const Summary s = summarize(t, run);
  // Only the (empty) level histograms are noted: the crossing rows are consistent.
  for (const std::string& note : s.notes) EXPECT_NE(note.find("no binned values"), std::string::npos) << note;
  EXPECT_EQ(s.notes.size(), 9u);
  ASSERT_EQ(s.metrics[0].name, "units");
  ASSERT_EQ(s.metrics[1].name, "compute");
  ASSERT_EQ(s.metrics[2].name, "memory");
  const auto& rows = s.metrics[0].crossing;
  ASSERT_EQ(rows.size(), 4u);
  const double want_p[4] = {0.10, 0.30, 0.30, 0.60};
  const uint64_t want_c[4] = {10, 30, 30, 60};
  const double z = z_for(0.95);
  for (int k = 0; k < 4; ++k) {
    EXPECT_DOUBLE_EQ(rows[k].year, 2026.0 + 0.25 * (k + 1));
    EXPECT_DOUBLE_EQ(rows[k].p_crossed, want_p[k]);
    EXPECT_NEAR(rows[k].stderr_mc, std::sqrt(want_p[k] * (1 - want_p[k]) / 100.0), 1e-15);
    const Interval w = wilson_roots(static_cast<double>(want_c[k]), 100.0, z);
    EXPECT_NEAR(rows[k].lo95, w.lo, 1e-12);
    EXPECT_NEAR(rows[k].hi95, w.hi, 1e-12);
  }
  EXPECT_DOUBLE_EQ(s.metrics[0].p_parity_by_horizon, 0.6);
  EXPECT_DOUBLE_EQ(s.metrics[0].p_no_parity_by_horizon, 0.4);
  EXPECT_EQ(s.metrics[1].p_parity_by_horizon, 0.0);
  EXPECT_EQ(s.metrics[1].p_no_parity_by_horizon, 1.0);
  EXPECT_FALSE(s.metrics[1].q05.has_value());
  EXPECT_EQ(s.metrics[1].crossing.back().lo95, 0.0);
  EXPECT_EQ(s.metrics[2].p_parity_by_horizon, 1.0);
  EXPECT_EQ(s.metrics[2].crossing.front().hi95, 1.0);

  // Quantiles: q05 -> first bin reaching 5 crossed = bin 3, upper edge 2026.04.
  ASSERT_TRUE(s.metrics[0].q05);
  EXPECT_NEAR(*s.metrics[0].q05, 2026.04, 1e-12);
  // q50 -> 50 crossed reached only in the last bin of period 3: its upper edge is T_3 exactly.
  ASSERT_TRUE(s.metrics[0].q50);
  EXPECT_EQ(*s.metrics[0].q50, 2027.0);
  // q95 > P(by horizon) = 0.6 -> after the horizon, even though 40 are censored.
  EXPECT_FALSE(s.metrics[0].q95.has_value());
  // Memory: everything in bin 0 -> every quantile is its upper edge.
  EXPECT_NEAR(*s.metrics[2].q05, 2026.01, 1e-12);
  EXPECT_NEAR(*s.metrics[2].q95, 2026.01, 1e-12);
}

TEST_F(CrossingTest, QuantileIsUpperEdgeOfFineBin) {
  uint64_t* u = row(0);
  u[kSub + 7] = 100;  // period 1, sub-bin 7: (2026.32, 2026.33]
  const TimeGrid grid{2026.0, 0.25, kPeriods, kSub};
  const auto q = crossing_year_quantile(u, grid, 100, 0.5);
  ASSERT_TRUE(q);
  EXPECT_NEAR(*q, 2026.0 + 0.25 + 8 * 0.01, 1e-12);
  EXPECT_DOUBLE_EQ(grid.bin_upper_edge(kSub + 7), 2026.0 + 0.25 * (1 + 8.0 / 25));
  // The last sub-bin of a period ends exactly at the period end, T_2.
  EXPECT_EQ(grid.bin_upper_edge(2 * kSub + kSub - 1), 2026.75);
  EXPECT_EQ(grid.period_end(2), 2026.75);
}

TEST_F(CrossingTest, QuantileWhenLevelIsExactlyReached) {
  // 5 of 100 in bin 10, 45 in bin 30, 45 in bin 60, 5 censored.
  uint64_t* u = row(0);
  u[10] = 5;
  u[30] = 45;
  u[60] = 45;
  u[censored_bin()] = 5;
  const double start = 2026.0, dt = 0.25;
  // P(by upper edge of bin 10) = 0.05 exactly: q05 is that edge, not the next bin's.
  EXPECT_NEAR(*crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 0.05), 2026.11, 1e-12);
  // 0.50 reached exactly at bin 30.
  EXPECT_NEAR(*crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 0.50), 2026.31, 1e-12);
  // Just above 0.05 moves to bin 30.
  EXPECT_NEAR(*crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 0.0500001), 2026.31, 1e-12);
  // 0.95 reached exactly at bin 60 (censored do not count, but 95 crossed do).
  EXPECT_NEAR(*crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 0.95), 2026.61, 1e-12);
  // Above P(by horizon) = 0.95: after the horizon.
  EXPECT_FALSE(crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 0.951));
  EXPECT_FALSE(crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 1.0));
  // The same with other counts giving the decimal level exactly (19 of 20 = 0.95).
  std::vector<uint64_t> v(t.shape.crossing_bins(), 0);
  v[0] = 19;
  v[censored_bin()] = 1;
  EXPECT_NEAR(*crossing_year_quantile(v.data(), TimeGrid{start, dt, kPeriods, kSub}, 20, 0.95), 2026.01, 1e-12);
  EXPECT_THROW(crossing_year_quantile(u, TimeGrid{start, dt, kPeriods, kSub}, 100, 0.0), std::invalid_argument);
}

TEST_F(CrossingTest, CensoredTrajectoriesNeverCount) {
  uint64_t* u = row(0);
  u[censored_bin()] = 1000;
  EXPECT_FALSE(crossing_year_quantile(u, TimeGrid{2026.0, 0.25, kPeriods, kSub}, 1000, 0.05));
  // Zero trajectories: no quantile, probabilities 0.
  EXPECT_FALSE(crossing_year_quantile(u, TimeGrid{2026.0, 0.25, kPeriods, kSub}, 0, 0.05));
}

TEST_F(CrossingTest, QuantileAgreesWithSampleWithinOneBin) {
  // Crossing times (years since start) from a fixed generator, binned as the
  // kernels do: bin = ceil(t / w) - 1, so bin b covers (b*w, (b+1)*w].
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> u01(0.0, 1.4);  // ~29 % beyond the 1-year horizon
  std::vector<double> times;
  uint64_t* c = row(0);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double tt = u01(gen);
    const int b = static_cast<int>(std::ceil(tt / 0.01)) - 1;
    if (tt > 1.0 || b >= kPeriods * kSub) {
      ++c[censored_bin()];
    } else {
      ++c[std::max(b, 0)];
      times.push_back(tt);
    }
  }
  std::sort(times.begin(), times.end());
  for (double q : {0.05, 0.25, 0.5, 0.7}) {
    const size_t rank = static_cast<size_t>(std::ceil(q * n));
    const auto got = crossing_year_quantile(c, TimeGrid{2026.0, 0.25, kPeriods, kSub}, n, q);
    if (rank > times.size()) {
      EXPECT_FALSE(got);
      continue;
    }
    ASSERT_TRUE(got) << q;
    const double exact = 2026.0 + times[rank - 1];
    EXPECT_GE(*got, exact - 1e-9) << q;
    EXPECT_LT(*got - exact, 0.01 + 1e-9) << q;
  }
  EXPECT_FALSE(crossing_year_quantile(c, TimeGrid{2026.0, 0.25, kPeriods, kSub}, n, 0.95));
}

TEST_F(CrossingTest, InconsistentTallies) {
  row(0)[0] = 10;
  t.trajectories = 5;
  EXPECT_THROW(summarize(t, run), std::invalid_argument);
  t.trajectories = 20;  // crossing rows hold 10, 0, 0 trajectories: noted, not thrown
  const Summary s = summarize(t, run);
  EXPECT_EQ(std::count_if(s.notes.begin(), s.notes.end(),
                          [](const std::string& n) { return n.find("crossing histogram") != std::string::npos; }),
            3);
  // Run settings implying another period count: noted.
  const Summary s2 = summarize(t, settings(2026.0, 2060.0, 0.25));
  EXPECT_TRUE(std::any_of(s2.notes.begin(), s2.notes.end(),
                          [](const std::string& n) { return n.find("imply 136") != std::string::npos; }));
}

// ---- band quantiles ---------------------------------------------------------

TEST(HistogramQuantile, WithinOneHundredthDecadeOfSampleQuantile) {
  std::mt19937_64 gen(2026);
  std::normal_distribution<double> normal(std::log(3.0e4), 2.5);
  for (int sample_size : {1, 7, 100, 5000}) {
    std::vector<double> xs;
    for (int i = 0; i < sample_size; ++i) xs.push_back(std::exp(normal(gen)));
    const std::vector<uint64_t> h = histogram_of(xs);
    for (double q : {0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0}) {
      LevelBinKind kind{};
      const double got = histogram_quantile(h.data(), q, &kind);
      ASSERT_EQ(kind, LevelBinKind::kRegular);
      const double exact = sample_quantile(xs, q);
      EXPECT_LE(std::fabs(std::log10(got) - std::log10(exact)), 0.01 + 1e-5)
          << "n=" << sample_size << " q=" << q << " got " << got << " exact " << exact;
    }
  }
}

TEST(HistogramQuantile, InterpolatesInLog10WithinBin) {
  std::vector<uint64_t> h(kLevelBins, 0);
  const int b = bin_of(1000.0);  // log10 = 3: the bin [3.00, 3.01)
  ASSERT_EQ(b, kBinFirstRegular + 1500);
  h[b] = 4;
  EXPECT_NEAR(std::log10(histogram_quantile(h.data(), 0.5)), 3.005, 1e-12);
  EXPECT_NEAR(std::log10(histogram_quantile(h.data(), 0.25)), 3.0025, 1e-12);
  EXPECT_NEAR(std::log10(histogram_quantile(h.data(), 1.0)), 3.01, 1e-12);
  EXPECT_NEAR(std::log10(histogram_quantile(h.data(), 0.0)), 3.0, 1e-12);
}

TEST(HistogramQuantile, SpecialBins) {
  std::vector<uint64_t> h(kLevelBins, 0);
  LevelBinKind kind{};
  EXPECT_TRUE(std::isnan(histogram_quantile(h.data(), 0.5, &kind)));
  EXPECT_EQ(kind, LevelBinKind::kEmpty);

  // 10 zeros, 10 under the range, 60 regular at 1.0, 10 over, 10 infinite.
  ASSERT_EQ(bin_of(0.0), kBinZero);
  ASSERT_EQ(bin_of(1e-13), kBinUnder);
  ASSERT_EQ(bin_of(1e19), kBinOver);
  ASSERT_EQ(bin_of(std::numeric_limits<double>::infinity()), kBinInfinite);
  h[kBinZero] = 10;
  h[kBinUnder] = 10;
  h[bin_of(1.0)] = 60;
  h[kBinOver] = 10;
  h[kBinInfinite] = 10;
  EXPECT_EQ(histogram_quantile(h.data(), 0.05, &kind), 0.0);
  EXPECT_EQ(kind, LevelBinKind::kZero);
  EXPECT_EQ(histogram_quantile(h.data(), 0.10, &kind), 0.0);  // rank 10 exactly: still the zero bin
  EXPECT_EQ(histogram_quantile(h.data(), 0.15, &kind), 1e-12);
  EXPECT_EQ(kind, LevelBinKind::kUnder);
  const double mid = histogram_quantile(h.data(), 0.5, &kind);
  EXPECT_EQ(kind, LevelBinKind::kRegular);
  EXPECT_GE(mid, 1.0);
  EXPECT_LT(std::log10(mid), 0.01);
  EXPECT_EQ(histogram_quantile(h.data(), 0.85, &kind), 1e18);
  EXPECT_EQ(kind, LevelBinKind::kOver);
  EXPECT_EQ(histogram_quantile(h.data(), 0.95, &kind), std::numeric_limits<double>::infinity());
  EXPECT_EQ(kind, LevelBinKind::kInfinite);
  EXPECT_THROW(histogram_quantile(h.data(), 1.5), std::invalid_argument);
}

TEST(Summarize, BandsOrderValuesAndNotes) {
  const int periods = 3;
  Tally t(periods, 25);
  t.trajectories = 100;
  for (int m = 0; m < kNumMetrics; ++m)
    t.crossing[static_cast<size_t>(m) * t.shape.crossing_bins() + periods * 25] = 100;
  std::mt19937_64 gen(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  // Every (period, series) row holds a known sample; keep them to compare.
  std::vector<std::vector<double>> samples(static_cast<size_t>(periods) * kNumSeries);
  for (int k = 0; k < periods; ++k)
    for (int se = 0; se < kNumSeries; ++se) {
      auto& xs = samples[static_cast<size_t>(k) * kNumSeries + se];
      for (int i = 0; i < 100; ++i) xs.push_back(std::exp(normal(gen) + 0.3 * se + 0.1 * k));
      uint64_t* row = t.level.data() + (static_cast<size_t>(k) * kNumSeries + se) * kLevelBins;
      for (double x : xs) ++row[bin_of(x)];
    }
  // Ratio of compute at the last period: 96 values beyond 1e18 -> q05.. q95 clamped.
  {
    uint64_t* row = t.level.data() + (static_cast<size_t>(2) * kNumSeries + 3) * kLevelBins;
    std::fill(row, row + kLevelBins, 0);
    row[bin_of(5.0)] = 4;
    row[kBinOver] = 96;
  }
  // Memory foreign level at period 0: half under the range.
  {
    uint64_t* row = t.level.data() + (static_cast<size_t>(0) * kNumSeries + 8) * kLevelBins;
    std::fill(row, row + kLevelBins, 0);
    row[kBinUnder] = 50;
    row[bin_of(2.0)] = 50;
  }
  t.anomalies[kAnomalyNanRatio] = 7;
  t.anomalies[kAnomalyNanLevel] = 5;
  t.anomalies[kAnomalyLostPrecision] = 3;
  const Summary s = summarize(t, settings(2026.0, 2026.75, 0.25));
  ASSERT_EQ(s.bands.size(), static_cast<size_t>(kNumSeries * periods));
  EXPECT_EQ(s.anomalies.nan_ratios, 7u);
  EXPECT_EQ(s.anomalies.nan_levels, 5u);
  EXPECT_EQ(s.anomalies.lost_precision, 3u);
  // Three quarters: less than a calendar year, so no annual rows and the reason.
  EXPECT_TRUE(s.annual.empty());
  EXPECT_NE(s.annual_reason.find("less than one calendar year"), std::string::npos) << s.annual_reason;
  for (size_t i = 0; i < s.bands.size(); ++i) {
    const BandRow& b = s.bands[i];
    const int k = static_cast<int>(i % periods);
    const int series = static_cast<int>(i / periods);  // metric-major, then series
    EXPECT_EQ(b.metric, series / 3);
    EXPECT_EQ(b.series, series % 3);
    EXPECT_DOUBLE_EQ(b.year, 2026.0 + 0.25 * (k + 1));
    if ((k == 2 && series == 3) || (k == 0 && series == 8)) continue;
    for (int qi = 0; qi < 5; ++qi) {
      const double exact = sample_quantile(samples[static_cast<size_t>(k) * kNumSeries + series], kBandQuantiles[qi]);
      EXPECT_LE(std::fabs(std::log10(b.q[qi]) - std::log10(exact)), 0.01 + 1e-5) << i << " " << qi;
    }
  }
  const BandRow& clamped = s.bands[static_cast<size_t>(3) * periods + 2];
  EXPECT_EQ(clamped.q[0], 1e18);  // rank 5 of 100 lies past the 4 regular values
  EXPECT_EQ(clamped.q[4], 1e18);
  const BandRow& under = s.bands[static_cast<size_t>(8) * periods + 0];
  EXPECT_EQ(under.q[0], 1e-12);
  EXPECT_EQ(under.q[1], 1e-12);
  EXPECT_EQ(under.q[2], 1e-12);  // rank 50 exactly: still the under bin
  EXPECT_GE(under.q[3], 2.0 * (1 - 1e-6));

  auto has_note = [&](const std::string& needle) {
    return std::any_of(s.notes.begin(), s.notes.end(),
                       [&](const std::string& n) { return n.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(has_note("compute ratio q05, q25, q50, q75, q95 lie at 2026.75 above the histogram range (>= 1e18)"))
      << ::testing::PrintToString(s.notes);
  EXPECT_TRUE(has_note("memory foreign q05, q25, q50 lie at 2026.25 below the histogram range (< 1e-12)"))
      << ::testing::PrintToString(s.notes);
  EXPECT_TRUE(has_note("7 ratio values were NaN"));
}

}  // namespace
}  // namespace chipcast
