// The parity model against closed forms: Brownian first passage, Markov regimes, scheduled events, censoring.
#include <gtest/gtest.h>

#include <boost/math/distributions/inverse_gaussian.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "host/run/runner.h"
#include "tests/support/model_fixtures.h"

namespace chipcast {
namespace {

using testing::brownian_params;

class ModelStatistics : public ::testing::TestWithParam<std::string> {
 protected:
  Tally run(const parity::ModelParams& p, uint64_t n) {
    auto backend = make_backend(GetParam(), BackendOptions{});
    return run_batches(*backend, p, RunPlan{0, n, 0}, nullptr);
  }
  // P(crossed by the end of period k) read straight from the crossing bins.
  static double p_by(const Tally& t, int metric, int k) {
    const uint64_t* row = t.crossing_row(metric);
    uint64_t c = 0;
    for (int b = 0; b < (k + 1) * t.shape.sub_bins; ++b) c += row[b];
    return static_cast<double>(c) / t.trajectories;
  }
  static double frac_in_bin(const Tally& t, int k, int series, int bin) {
    return static_cast<double>(t.level_row(k, series)[bin]) / t.trajectories;
  }
  static double five_se(double p, double n) { return 5.0 * std::sqrt(std::max(p * (1 - p), 1e-4) / n); }
};

// Log ratio X_t = -a + nu t + sigma W_t monitored at period ends t_k: the
// first passage of the continuous path is inverse Gaussian (Boost.Math); the
// discrete monitoring is corrected by shifting the barrier by
// 0.5826 sigma sqrt(dt) (Broadie, Glasserman & Kou 1997).
TEST_P(ModelStatistics, BrownianFirstPassageMatchesInverseGaussian) {
  const double a = 0.5, nu = 0.08, sigma = 0.3, dt = 0.05;
  const int periods = 200;
  const uint64_t n = 40000;
  auto p = brownian_params(a, nu, sigma, dt, periods, 20261123);
  const Tally t = run(*p, n);
  const double shifted = a + 0.5826 * sigma * std::sqrt(dt);
  boost::math::inverse_gaussian ig(shifted / nu, shifted * shifted / (sigma * sigma));
  for (int k : {9, 39, 99, 199}) {
    const double tk = (k + 1) * dt;
    const double expect = cdf(ig, tk);
    for (int m = 0; m < kNumMetrics; ++m)
      EXPECT_NEAR(p_by(t, m, k), expect, five_se(expect, n)) << "metric " << m << " t=" << tk;
  }
  EXPECT_EQ(t.anomalies[kAnomalyNanRatio], 0u);
}

// Negative drift: P(tau <= t) = Phi((nu t - a)/(sigma sqrt t)) + exp(2 nu a / sigma^2) Phi((-nu t - a)/(sigma sqrt t)).
TEST_P(ModelStatistics, BrownianNegativeDriftMatchesClosedForm) {
  const double a = 0.4, nu = -0.05, sigma = 0.35, dt = 0.05;
  const int periods = 200;
  const uint64_t n = 40000;
  auto p = brownian_params(a, nu, sigma, dt, periods, 7);
  const Tally t = run(*p, n);
  const double s = a + 0.5826 * sigma * std::sqrt(dt);
  boost::math::normal z;
  for (int k : {19, 99, 199}) {
    const double tk = (k + 1) * dt;
    const double expect = cdf(z, (nu * tk - s) / (sigma * std::sqrt(tk))) +
                          std::exp(2 * nu * s / (sigma * sigma)) * cdf(z, (-nu * tk - s) / (sigma * std::sqrt(tk)));
    EXPECT_NEAR(p_by(t, parity::kUnits, k), expect, five_se(expect, n)) << "t=" << tk;
  }
}

// A two-regime chain whose second regime empties the domestic bloc (hbm_mult
// = 0, so its ratio is exactly 0): the share of zero ratios at period k is
// P(regime B at k) = pi_B (1 - (1 - q_AB - q_BA)^(k+1)), the transition
// being applied at period 0 too.
TEST_P(ModelStatistics, TwoRegimeOccupancyFollowsMarkovChain) {
  auto p = brownian_params(3.0, 0.0, 0.0, 0.25, 40, 99);
  p->num_regimes = 2;
  p->q[0][1] = 0.1;
  p->q[1][0] = 0.3;
  p->params[parity::effect_param_index(1, parity::kDomestic, parity::kHbmMult)] = fixed_dist(0.0);
  const uint64_t n = 40000;
  const Tally t = run(*p, n);
  const double pi_b = 0.1 / (0.1 + 0.3);
  for (int k : {0, 1, 3, 10, 39}) {
    const double expect = pi_b * (1 - std::pow(1 - 0.1 - 0.3, k + 1));
    EXPECT_NEAR(frac_in_bin(t, k, 0, kBinZero), expect, five_se(expect, n)) << "period " << k;
  }
}

// Destinations are walked in regime order with one uniform: from A with
// q_AB = 0.2 and q_AC = 0.3, one period later P(B) = 0.2 and P(C) = 0.3.
// B empties the domestic bloc (ratio 0), C the foreign one (ratio +inf).
TEST_P(ModelStatistics, ThreeRegimeFirstStep) {
  auto p = brownian_params(3.0, 0.0, 0.0, 0.25, 2, 5);
  p->num_regimes = 3;
  p->q[0][1] = 0.2;
  p->q[0][2] = 0.3;
  p->params[parity::effect_param_index(1, parity::kDomestic, parity::kHbmMult)] = fixed_dist(0.0);
  p->params[parity::effect_param_index(2, parity::kForeign, parity::kHbmMult)] = fixed_dist(0.0);
  const uint64_t n = 40000;
  const Tally t = run(*p, n);
  EXPECT_NEAR(frac_in_bin(t, 0, 0, kBinZero), 0.2, five_se(0.2, n));
  EXPECT_NEAR(frac_in_bin(t, 0, 0, kBinInfinite), 0.3, five_se(0.3, n));
  // Foreign output 0 with domestic > 0 is r = +inf, dated T_{k-1} by
  // MODEL.md (T_0 at k = 0): moving to C in period 0 (0.3) or in period 1
  // from A (0.5 * 0.3) both date the crossing at T_0.
  EXPECT_NEAR(p_by(t, parity::kUnits, 0), 0.45, five_se(0.45, n));
  EXPECT_NEAR(p_by(t, parity::kUnits, 1), 0.45, five_se(0.45, n));
}

TEST_P(ModelStatistics, ScheduledEventFiresWithItsProbability) {
  auto p = brownian_params(3.0, 0.0, 0.0, 0.25, 12, 3);
  p->num_regimes = 2;  // no transitions: only the event moves trajectories
  p->params[parity::effect_param_index(1, parity::kDomestic, parity::kHbmMult)] = fixed_dist(0.0);
  p->num_events = 1;
  p->events[0] = parity::EventSpec{5, 1, 0.35};
  const uint64_t n = 40000;
  const Tally t = run(*p, n);
  EXPECT_EQ(t.level_row(4, 0)[kBinZero], 0u);
  EXPECT_NEAR(frac_in_bin(t, 5, 0, kBinZero), 0.35, five_se(0.35, n));
  EXPECT_NEAR(frac_in_bin(t, 11, 0, kBinZero), 0.35, five_se(0.35, n));
}

// A shock with rate lambda and loss 1 - e^-1 on the foreign bloc raises the
// log ratio by exactly 1 per occurrence: P(no shock by T_k) = exp(-lambda (k+1) dt).
TEST_P(ModelStatistics, PoissonShockRate) {
  auto p = brownian_params(0.5, 0.0, 0.0, 0.25, 20, 17);
  p->num_shocks = 1;
  p->shocks[0].bloc = parity::kForeign;
  p->shocks[0].loss = fixed_dist(1.0 - std::exp(-1.0));
  p->params[parity::shock_rate_index(0)] = fixed_dist(0.2);
  const uint64_t n = 40000;
  const Tally t = run(*p, n);
  for (int k : {0, 7, 19}) {
    const double expect = 1 - std::exp(-0.2 * (k + 1) * 0.25);
    EXPECT_NEAR(p_by(t, parity::kUnits, k), expect, five_se(expect, n)) << "period " << k;
  }
}

TEST_P(ModelStatistics, NeverReachingParityIsCensored) {
  auto p = brownian_params(5.0, -0.1, 0.05, 0.25, 136, 1);
  const uint64_t n = 5000;
  const Tally t = run(*p, n);
  for (int m = 0; m < kNumMetrics; ++m) EXPECT_EQ(t.crossing_row(m)[t.shape.crossing_bins() - 1], n);
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelStatistics, ::testing::ValuesIn(testing::runnable_backends()),
                         testing::backend_test_name);

}  // namespace
}  // namespace chipcast
