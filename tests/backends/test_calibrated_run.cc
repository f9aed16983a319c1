// Tests of Backend::run_calibrated: the prior is run()'s tally, the posterior exactly the accepted trajectories'.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "models/parity/trajectory.h"
#include "tally/tally.h"
#include "tests/support/model_fixtures.h"

namespace chipcast {
namespace {

// rich_params over 4 calendar years with two observations that accept some
// but not all trajectories (values near the simulated ones, as
// test_observation_step's two-pass test).
std::unique_ptr<parity::ModelParams> calibrated_params() {
  auto p = testing::rich_params(17, 16);
  auto add = [&](int year, int bloc, int quantity, double value, double sd) {
    parity::ObservationSpec& o = p->observations[p->num_observations++];
    o.year = year;
    o.bloc = bloc;
    o.quantity = quantity;
    o.log_value = std::log(value);
    o.sd_log = sd;
    p->observed_periods = std::max(p->observed_periods, (year + 1) * p->periods_per_year);
  };
  add(1, parity::kDomestic, parity::kUnits, 1.6e4, 0.5);
  add(2, parity::kObservedRatio, parity::kCompute, 2e-3, 0.5);
  return p;
}

// Which of [first, first + count) are accepted, one trajectory at a time on
// the single-lane kernel (not the backends' blocks, nor their routing).
std::vector<bool> decisions(const parity::ModelParams& p, uint64_t first, uint64_t count) {
  std::vector<bool> out(count);
  for (uint64_t i = 0; i < count; ++i) {
    parity::LaneState<1> s;
    parity::init_lanes<1>(p, first + i, s);
    for (int k = 0; k < p.observed_periods; ++k) parity::step_lanes<1>(p, k, s);
    out[i] = parity::accept_trajectory(p.seed, first + i, s.log_lik[0]);
  }
  return out;
}

class CalibratedRunTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> openmp(int threads) { return make_backend("openmp", BackendOptions{threads, {}}); }
};

// The oracle posterior: run() over each accepted trajectory on its own, merged.
TEST_F(CalibratedRunTest, OpenMPPriorIsTheRunAndPosteriorTheAcceptedTrajectories) {
  const auto p = calibrated_params();
  const uint64_t first = 5000, count = 800;
  const TallyShape shape = parity::tally_shape(*p);
  auto backend = openmp(2);

  Tally plain(shape);
  backend->run(*p, first, count, plain);
  const std::vector<bool> accept = decisions(*p, first, count);
  Tally oracle(shape);
  uint64_t expected = 0;
  for (uint64_t i = 0; i < count; ++i)
    if (accept[i]) {
      backend->run(*p, first + i, 1, oracle);
      ++expected;
    }
  ASSERT_GT(expected, 0u);
  ASSERT_LT(expected, count);

  Tally prior(shape), posterior(shape);
  EXPECT_EQ(backend->run_calibrated(*p, first, count, prior, posterior), expected);
  EXPECT_TRUE(prior == plain);
  EXPECT_TRUE(posterior == oracle);
  EXPECT_EQ(posterior.trajectories, expected);
  EXPECT_EQ(posterior.inconsistency(), "");

  // One thread, and two batches of other sizes: the same tallies.
  auto one = openmp(1);
  Tally prior1(shape), posterior1(shape);
  const uint64_t a1 = one->run_calibrated(*p, first, 300, prior1, posterior1);
  const uint64_t a2 = one->run_calibrated(*p, first + 300, count - 300, prior1, posterior1);
  EXPECT_EQ(a1 + a2, expected);
  EXPECT_TRUE(prior1 == plain);
  EXPECT_TRUE(posterior1 == oracle);

  // The default (host decisions, run() over accepted ranges) gives the same.
  Tally prior2(shape), posterior2(shape);
  EXPECT_EQ(backend->Backend::run_calibrated(*p, first, count, prior2, posterior2), expected);
  EXPECT_TRUE(prior2 == plain);
  EXPECT_TRUE(posterior2 == oracle);
}

}  // namespace
}  // namespace chipcast
