// Determinism on every backend: the tally does not depend on threads, batch size or how the index range is split.
#include <gtest/gtest.h>

#include <algorithm>

#include "host/config/scenario.h"
#include "host/run/runner.h"
#include "tests/support/model_fixtures.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

class Determinism : public ::testing::TestWithParam<std::string> {};

TEST_P(Determinism, SameTallyForAnyThreadsBatchesAndSplits) {
  auto p = testing::rich_params(20261123);
  const uint64_t n = 5003;  // not a multiple of any block size
  BackendOptions one;
  one.threads = 1;
  auto a = make_backend(GetParam(), one);
  auto b = make_backend(GetParam(), BackendOptions{});
  const Tally whole = run_batches(*a, *p, RunPlan{0, n, 0}, nullptr);
  const Tally batched = run_batches(*b, *p, RunPlan{0, n, 777}, nullptr);
  EXPECT_TRUE(whole == batched);
  // Two slices merged, as MPI ranks or resumed checkpoints do.
  Tally split = run_batches(*b, *p, RunPlan{0, 1234, 0}, nullptr);
  split.merge(run_batches(*b, *p, RunPlan{1234, n - 1234, 100}, nullptr));
  EXPECT_TRUE(whole == split);
  EXPECT_EQ(whole.trajectories, n);
  // Every trajectory lands in each period's ratio histogram once (no NaN here).
  uint64_t total = 0;
  for (int b2 = 0; b2 < kLevelBins; ++b2) total += whole.level_row(10, 0)[b2];
  EXPECT_EQ(total, n);
  EXPECT_EQ(whole.anomalies[kAnomalyNanRatio], 0u);
  // And each calendar year's (rows after the periods, part of the tallies compared above).
  ASSERT_EQ(whole.shape.years, 15);
  for (int y = 0; y < whole.shape.years; ++y)
    for (int q = 0; q < kNumSeries; ++q) {
      uint64_t in_year = 0;
      for (int b2 = 0; b2 < kLevelBins; ++b2) in_year += whole.level_row(whole.shape.annual_row(y), q)[b2];
      EXPECT_EQ(in_year, n) << "year " << y << " series " << q;
    }
  // The check can fail: another seed gives another tally.
  auto q = testing::rich_params(7);
  EXPECT_FALSE(whole == run_batches(*a, *q, RunPlan{0, n, 0}, nullptr));
}

// Every trajectory identical (no randomness), so each row's counts pile into
// one bin: more than 2^16 of them checks that counts never wrap (the OpenMP
// backend counts levels in 16 bits and flushes them into 32 bits before they
// could), whether one thread counts them in one call or many calls do.
TEST_P(Determinism, CountsBeyondSixteenBitsInOneBin) {
  auto p = testing::brownian_params(1.0, 0.1, 0.0, 0.25, 6, 11);
  const uint64_t n = 3 * 65536 + 11;
  BackendOptions one;
  one.threads = 1;
  const Tally whole = run_batches(*make_backend(GetParam(), one), *p, RunPlan{0, n, n}, nullptr);
  const Tally batched = run_batches(*make_backend(GetParam(), BackendOptions{}), *p, RunPlan{0, n, 20000}, nullptr);
  EXPECT_TRUE(whole == batched);
  for (int k = 0; k < p->periods; ++k)
    for (int q = 0; q < kNumSeries; ++q) {
      uint64_t largest = 0;
      uint64_t total = 0;
      for (int b = 0; b < kLevelBins; ++b) {
        largest = std::max(largest, whole.level_row(k, q)[b]);
        total += whole.level_row(k, q)[b];
      }
      EXPECT_EQ(total, n) << "period " << k << " series " << q;
      EXPECT_EQ(largest, n) << "period " << k << " series " << q;
    }
}

// The same on the shared v2 scenario (every MODEL-v2.md section 1-5 key): the
// v2 state (stocks, ceilings, running sums, lag) is per trajectory too.
TEST_P(Determinism, V2AllKeysSameTallyForAnyThreadsBatchesAndSplits) {
  const auto sc = load_scenario(testing::kV2AllKeysToml);
  const parity::ModelParams& p = sc->params;
  ASSERT_EQ(p.v2, 1);
  const uint64_t n = 5003;
  BackendOptions one;
  one.threads = 1;
  auto a = make_backend(GetParam(), one);
  auto b = make_backend(GetParam(), BackendOptions{});
  const Tally whole = run_batches(*a, p, RunPlan{0, n, 0}, nullptr);
  EXPECT_TRUE(whole == run_batches(*b, p, RunPlan{0, n, 777}, nullptr));
  Tally split = run_batches(*b, p, RunPlan{0, 1234, 0}, nullptr);
  split.merge(run_batches(*b, p, RunPlan{1234, n - 1234, 100}, nullptr));
  EXPECT_TRUE(whole == split);
  // Some trajectories cross and some do not (else equality would prove little).
  const uint64_t censored = whole.crossing_row(parity::kUnits)[whole.shape.crossing_bins() - 1];
  EXPECT_GT(censored, n / 20);
  EXPECT_LT(censored, n - n / 20);
}

TEST_P(Determinism, CrossingTimesDoNotDependOnTheRangeStart) {
  auto p = testing::rich_params(99);
  auto backend = make_backend(GetParam(), BackendOptions{});
  std::vector<float> all(3 * 300), tail(3 * 100);
  backend->crossing_times(*p, 0, 300, all.data());
  backend->crossing_times(*p, 200, 100, tail.data());
  for (int m = 0; m < 3; ++m)
    for (int i = 0; i < 100; ++i) EXPECT_EQ(all[m * 300 + 200 + i], tail[m * 100 + i]) << m << " " << i;
}

INSTANTIATE_TEST_SUITE_P(Backends, Determinism, ::testing::ValuesIn(testing::runnable_backends()),
                         testing::backend_test_name);

}  // namespace
}  // namespace chipcast
