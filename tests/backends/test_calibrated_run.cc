// Tests of Backend::run_calibrated: the prior is run()'s tally, the posterior exactly the accepted trajectories'.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include <boost/math/distributions/normal.hpp>

#include "backends/backend.h"
#include "host/stats/parameter_quantiles.h"
#include "host/stats/summary.h"
#include "models/parity/trajectory.h"
#include "tally/calibration_tally.h"
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
    for (int k = 0; k < p.observed_periods; ++k) parity::step_lanes<1, true>(p, k, s);
    out[i] = parity::accept_trajectory(p.seed, first + i, s.log_lik[0]);
  }
  return out;
}

// The decision counts of [first, first + count), one trajectory at a time on
// the single-lane kernel: each drawn parameter's uniform bin (from
// parameter_uniforms, as init_lanes draws them) and the lane's rejecting observations.
CalibrationTally decision_oracle(const parity::ModelParams& p, uint64_t first, uint64_t count) {
  CalibrationTally t(p);
  for (uint64_t i = 0; i < count; ++i) {
    parity::LaneState<1> s;
    parity::init_lanes<1>(p, first + i, s);
    for (int k = 0; k < p.observed_periods; ++k) parity::step_lanes<1, true>(p, k, s);
    const bool acc = parity::accept_trajectory(p.seed, first + i, s.log_lik[0]);
    double u[parity::kMaxParams][1];
    parity::parameter_uniforms<1>(p, first + i, u);
    for (size_t j = 0; j < t.params.size(); ++j) {
      const int bin = uniform_bin(u[t.params[j]][0]);
      ++t.prior_u[j * kUniformBins + bin];
      if (acc) ++t.posterior_u[j * kUniformBins + bin];
    }
    for (int j = 0; j < p.num_observations; ++j) {
      if ((s.rejected_by[0] >> j) & 1u) ++t.rejects[j];
      const int bin = s.obs_bin[j][0];
      if (bin >= 0) {
        ++t.prior_obs[j * kLevelBins + bin];
        if (acc) ++t.posterior_obs[j * kLevelBins + bin];
      }
    }
    ++t.trajectories;
    t.accepted += acc;
  }
  return t;
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

  const CalibrationTally decided = decision_oracle(*p, first, count);
  ASSERT_EQ(decided.accepted, expected);
  ASSERT_FALSE(decided.params.empty());

  Tally prior(shape), posterior(shape);
  CalibrationTally d(*p);
  EXPECT_EQ(backend->run_calibrated(*p, first, count, prior, posterior, d), expected);
  EXPECT_TRUE(prior == plain);
  EXPECT_TRUE(posterior == oracle);
  EXPECT_EQ(posterior.trajectories, expected);
  EXPECT_TRUE(d == decided);
  EXPECT_EQ(d.inconsistency(), "");
  // Observation 0 is year 1's domestic units: its histogram is the tallies' calendar-year row
  // (annual_step's bins of the same sums), prior and posterior.
  const int series = parity::kUnits * kSeriesPerMetric + 1;
  for (int b = 0; b < kLevelBins; ++b) {
    ASSERT_EQ(d.prior_observed_row(0)[b], prior.level_row(prior.shape.annual_row(1), series)[b]) << b;
    ASSERT_EQ(d.posterior_observed_row(0)[b], posterior.level_row(posterior.shape.annual_row(1), series)[b]) << b;
  }
  EXPECT_EQ(posterior.inconsistency(), "");

  // One thread, and two batches of other sizes: the same tallies.
  auto one = openmp(1);
  Tally prior1(shape), posterior1(shape);
  CalibrationTally d1(*p);
  const uint64_t a1 = one->run_calibrated(*p, first, 300, prior1, posterior1, d1);
  const uint64_t a2 = one->run_calibrated(*p, first + 300, count - 300, prior1, posterior1, d1);
  EXPECT_EQ(a1 + a2, expected);
  EXPECT_TRUE(prior1 == plain);
  EXPECT_TRUE(posterior1 == oracle);
  EXPECT_TRUE(d1 == decided);

  // The default (host decisions, run() over accepted ranges) gives the same.
  Tally prior2(shape), posterior2(shape);
  CalibrationTally d2(*p);
  EXPECT_EQ(backend->Backend::run_calibrated(*p, first, count, prior2, posterior2, d2), expected);
  EXPECT_TRUE(prior2 == plain);
  EXPECT_TRUE(posterior2 == oracle);
  EXPECT_TRUE(d2 == decided);
}

// The conjugate case (issue 12): domestic wafers0 lognormal, ln W ~ N(mu0, s0^2),
// everything else fixed, no noise, no ceiling, HBM and packaging not binding,
// yield 1, so domestic units in a year are exactly c W with c = periods per
// year x 12 dt x dies_per_wafer. One observation y of them with sd_log s:
//   P(accept) = E[L] = s / sqrt(s^2 + s0^2) exp(-(mu0 + ln c - ln y)^2 / (2 (s^2 + s0^2))),
//   posterior ln W ~ N(m, v), v = 1 / (1/s0^2 + 1/s^2), m = v (mu0/s0^2 + (ln y - ln c)/s^2).
// The accepted share is checked within 5 binomial sigma; the posterior's
// domestic-units year row quantiles q05/q50/q95 (histogram_quantile) against
// m + ln c + z_q sqrt(v) within 5 sigma of a sample quantile
// (sqrt(q(1-q)/n) / phi(z_q) sqrt(v)) plus the histogram's 0.01 decade.
TEST_F(CalibratedRunTest, ConjugateLognormalPosteriorAndAcceptanceShare) {
  using namespace parity;
  const double dt = 0.25;
  auto p = testing::brownian_params(0.0, 0.0, 0.0, dt, 12, 99);  // 3 calendar years
  const double mu0 = std::log(2e4), s0 = 0.6, s = 0.3;
  p->params[bloc_param_index(kDomestic, kWafers0)] = testing::lognormal_dist(2e4, std::exp(s0));
  const double c = 4 * 12 * dt * 50;  // brownian_params: dies_per_wafer 50
  const double y = 2e7;               // above the prior median c e^mu0 = 1.2e7
  ObservationSpec& o = p->observations[p->num_observations++];
  o.year = 1;
  o.bloc = kDomestic;
  o.quantity = kUnits;
  o.log_value = std::log(y);
  o.sd_log = s;
  p->observed_periods = 2 * p->periods_per_year;

  const uint64_t n = 60000;
  Tally prior(tally_shape(*p)), posterior(tally_shape(*p));
  CalibrationTally d(*p);
  const uint64_t accepted = openmp(2)->run_calibrated(*p, 0, n, prior, posterior, d);
  // One observation: a trajectory is rejected exactly when its one factor rejects it.
  ASSERT_EQ(d.rejects.size(), 1u);
  EXPECT_EQ(d.rejects[0], n - accepted);

  const double total_var = s * s + s0 * s0;
  const double share =
      s / std::sqrt(total_var) * std::exp(-std::pow(mu0 + std::log(c) - std::log(y), 2) / (2 * total_var));
  EXPECT_NEAR(accepted / double(n), share, 5 * std::sqrt(share * (1 - share) / n));

  const double v = 1 / (1 / (s0 * s0) + 1 / (s * s));
  const double m = v * (mu0 / (s0 * s0) + (std::log(y) - std::log(c)) / (s * s));
  const boost::math::normal_distribution<double> n01;
  const uint64_t* row = posterior.level_row(posterior.shape.annual_row(1), kUnits * kSeriesPerMetric + 1);
  for (double q : {0.05, 0.5, 0.95}) {
    const double z = boost::math::quantile(n01, q);
    const double expected_log10 = (m + std::log(c) + z * std::sqrt(v)) / std::log(10.0);
    const double se_log10 =
        std::sqrt(q * (1 - q) / accepted) / boost::math::pdf(n01, z) * std::sqrt(v) / std::log(10.0);
    EXPECT_NEAR(std::log10(histogram_quantile(row, q)), expected_log10, 5 * se_log10 + 0.01) << q;
    // The parameter histogram's quantile of wafers0 itself: within 5 sigma plus one uniform bin
    // (1/4096 in u is s0 / (4096 phi(z_prior)) in ln wafers0, z_prior the value's prior z).
    const int index = bloc_param_index(kDomestic, kWafers0);
    ASSERT_EQ(d.params.size(), 1u);
    ASSERT_EQ(d.params[0], index);
    const double w = parameter_quantile(d.posterior_row(0), p->params[index], p->tables, q);
    const double se_ln = std::sqrt(q * (1 - q) / accepted) / boost::math::pdf(n01, z) * std::sqrt(v);
    const double z_prior = (m + z * std::sqrt(v) - mu0) / s0;
    EXPECT_NEAR(std::log(w), m + z * std::sqrt(v), 5 * se_ln + s0 / (kUniformBins * boost::math::pdf(n01, z_prior)))
        << q;
  }
}

}  // namespace
}  // namespace chipcast
