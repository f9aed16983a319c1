// Anomaly kinds on every backend: NaN ratios, NaN levels and lost precision, each counted separately and exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "host/run/runner.h"
#include "tests/support/model_fixtures.h"

namespace chipcast {
namespace {

using namespace parity;

// Every scenario below makes each trajectory produce a number of anomalies
// known by hand; values per trajectory are counted over the 16 periods and
// the 4 calendar years (dt = 0.25 from 2026), for 3 metrics.
constexpr int kPeriods = 16;
constexpr int kYears = 4;
constexpr uint64_t kN = 1003;  // not a multiple of a block

Tally run_all(const std::string& backend, const ModelParams& p) {
  return run_batches(*make_backend(backend, BackendOptions{}), p, RunPlan{0, kN, 300}, nullptr);
}

std::unique_ptr<ModelParams> still(double domestic_wafers0) {
  // Both blocs constant (no drift or noise), nothing binding but wafers.
  auto p = testing::brownian_params(0.0, 0.0, 0.0, 0.25, kPeriods, 3);
  p->params[bloc_param_index(kDomestic, kWafers0)] = fixed_dist(domestic_wafers0);
  return p;
}

class AnomalyKinds : public ::testing::TestWithParam<std::string> {};

// A NaN domestic capacity makes every domestic level NaN: one NaN level per
// metric, period and year; the ratios beside them are not counted again and
// nothing is binned in either row (before the fix, a NaN level's bin came
// from converting NaN to int and every one was reported as a NaN ratio).
TEST_P(AnomalyKinds, NanLevelsAreCountedOncePerLevelNotAsRatios) {
  auto p = still(NAN);
  ASSERT_EQ(p->years, kYears);
  const Tally t = run_all(GetParam(), *p);
  EXPECT_EQ(t.anomalies[kAnomalyNanLevel], kN * (kPeriods + kYears) * kNumMetrics);
  EXPECT_EQ(t.anomalies[kAnomalyNanRatio], 0u);
  EXPECT_EQ(t.anomalies[kAnomalyLostPrecision], 0u);
  for (int row = 0; row < kPeriods + kYears; ++row)
    for (int m = 0; m < kNumMetrics; ++m) {
      uint64_t ratio = 0, domestic = 0, foreign = 0;
      for (int b = 0; b < kLevelBins; ++b) {
        ratio += t.level_row(row, m * kSeriesPerMetric + 0)[b];
        domestic += t.level_row(row, m * kSeriesPerMetric + 1)[b];
        foreign += t.level_row(row, m * kSeriesPerMetric + 2)[b];
      }
      EXPECT_EQ(ratio, 0u) << "row " << row;
      EXPECT_EQ(domestic, 0u) << "row " << row;
      EXPECT_EQ(foreign, kN) << "row " << row;
    }
}

// Both blocs +inf everywhere (capacity, its cap, HBM and packaging): each
// ratio, of a period or a year, is inf/inf, NaN with neither level NaN.
TEST_P(AnomalyKinds, NanRatiosOfLevelsThatAreNotNan) {
  auto p = still(INFINITY);
  for (int b = 0; b < kNumBlocs; ++b)
    for (int k : {kWafers0, kWaferCap, kHbm0, kPackaging0}) p->params[bloc_param_index(b, k)] = fixed_dist(INFINITY);
  const Tally t = run_all(GetParam(), *p);
  EXPECT_EQ(t.anomalies[kAnomalyNanRatio], kN * (kPeriods + kYears) * kNumMetrics);
  EXPECT_EQ(t.anomalies[kAnomalyNanLevel], 0u);
  EXPECT_EQ(t.anomalies[kAnomalyLostPrecision], 0u);
  EXPECT_EQ(t.level_row(3, 1)[kBinInfinite], kN) << "an infinite level is binned";
}

// Domestic log capacity grows by 1000 a period (wafer_growth 4000, dt 0.25),
// with HBM growing faster so that wafers bind: the log of every domestic
// metric is 1000 (k + 1) + log(1e4 * 150) + (0, log 2, log 64) < 8019 up to
// period 7 and > 9000 from period 8 on, beyond kLostPrecisionLog = 8192. So 8
// periods (8..15) and the years holding them (2028, 2029; the sum of a year is
// within log 4 of its largest period) lose precision: 3 x (8 + 2) ratios per
// trajectory. An empty foreign bloc in the same scenario gives ratios of +inf,
// which are exact and not counted.
TEST_P(AnomalyKinds, LostPrecisionCountsTheRatiosOfHugeLevels) {
  auto p = still(1e4);
  p->params[bloc_param_index(kDomestic, kWaferGrowth)] = fixed_dist(4000.0);
  p->params[bloc_param_index(kDomestic, kWaferCap)] = fixed_dist(INFINITY);
  p->params[bloc_param_index(kDomestic, kHbm0)] = fixed_dist(1e30);
  p->params[bloc_param_index(kDomestic, kHbmGrowth)] = fixed_dist(4400.0);
  p->params[bloc_param_index(kDomestic, kPackaging0)] = fixed_dist(INFINITY);
  ASSERT_LT(1000.0 * 8 + std::log(1e4 * 150 * 64), kLostPrecisionLog);
  ASSERT_GT(1000.0 * 9 + std::log(1e4 * 150), kLostPrecisionLog);
  const Tally t = run_all(GetParam(), *p);
  EXPECT_EQ(t.anomalies[kAnomalyLostPrecision], kN * (8 + 2) * kNumMetrics);
  EXPECT_EQ(t.anomalies[kAnomalyNanRatio], 0u);
  EXPECT_EQ(t.anomalies[kAnomalyNanLevel], 0u);
  EXPECT_EQ(t.level_row(7, 0)[kBinOver], kN) << "period 7's ratio is still binned";
  EXPECT_EQ(t.level_row(8, 1)[kBinOver], kN) << "a huge level is binned (above the range)";

  p->params[bloc_param_index(kForeign, kWafers0)] = fixed_dist(0.0);
  const Tally empty = run_all(GetParam(), *p);
  EXPECT_EQ(empty.anomalies[kAnomalyLostPrecision], 0u);
  EXPECT_EQ(empty.level_row(12, 0)[kBinInfinite], kN);
}

INSTANTIATE_TEST_SUITE_P(Backends, AnomalyKinds, ::testing::ValuesIn(testing::runnable_backends()),
                         testing::backend_test_name);

}  // namespace
}  // namespace chipcast
