// Determinism on every backend: the tally does not depend on threads, batch size or how the index range is split.
#include <gtest/gtest.h>

#include "host/run/runner.h"
#include "tests/support/model_fixtures.h"

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
  // The check can fail: another seed gives another tally.
  auto q = testing::rich_params(7);
  EXPECT_FALSE(whole == run_batches(*a, *q, RunPlan{0, n, 0}, nullptr));
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
