// Tests of host/stats/parameter_quantiles: a parameter's quantiles from its uniforms' histogram.
#include "host/stats/parameter_quantiles.h"

#include <gtest/gtest.h>

#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "kernels/tally/uniform_bins.h"
#include "tests/support/model_fixtures.h"

namespace chipcast {
namespace {

// Equal counts in every bin are the exact uniform: the q-quantile of u is q,
// so the parameter's is Boost.Math's quantile at q (AS241 against Boost: 1e-13 relative).
TEST(ParameterQuantiles, AFlatHistogramGivesThePriorsOwnQuantiles) {
  std::vector<uint64_t> h(kUniformBins, 10);
  const Dist d = testing::lognormal_dist(2e4, 1.6);
  const QuantileTables tables{};
  const boost::math::lognormal_distribution<double> oracle(std::log(2e4), std::log(1.6));
  for (double q : {0.05, 0.25, 0.5, 0.75, 0.95})
    EXPECT_NEAR(parameter_quantile(h.data(), d, tables, q), boost::math::quantile(oracle, q),
                1e-12 * boost::math::quantile(oracle, q))
        << q;
}

// A histogram of 2,000,000 uniforms weighted by a posterior density: with
// prior N(0, 1) on z = Phi^-1(u) and a normal likelihood N(z; m, s), the
// posterior of z is normal with mean m / (1 + s^2) and variance s^2 / (1 + s^2)
// (the conjugate case). Each bin's expected count is integrated exactly from that
// posterior (its CDF at the bin's edges), so the only error is the bin width's:
// the quantile of u is within one bin, dz = du / phi(z).
TEST(ParameterQuantiles, AWeightedHistogramGivesThePosteriorQuantiles) {
  const double m = 1.2, s = 0.5;
  const double post_mean = m / (1 + s * s), post_sd = std::sqrt(s * s / (1 + s * s));
  const boost::math::normal_distribution<double> n01, post(post_mean, post_sd);
  std::vector<uint64_t> h(kUniformBins, 0);
  const double total = 2e6;
  for (int b = 0; b < kUniformBins; ++b) {
    const double z0 = boost::math::quantile(n01, std::fmax(1e-300, double(b) / kUniformBins));
    const double z1 = boost::math::quantile(n01, std::fmin(1 - 1e-16, double(b + 1) / kUniformBins));
    h[b] = static_cast<uint64_t>(std::llround(total * (boost::math::cdf(post, z1) - boost::math::cdf(post, z0))));
  }
  const Dist d = testing::normal_dist(0.0, 1.0);
  const QuantileTables tables{};
  for (double q : {0.05, 0.5, 0.95}) {
    const double z = boost::math::quantile(post, q);
    const double dz = (1.0 / kUniformBins) / boost::math::pdf(n01, z);
    EXPECT_NEAR(parameter_quantile(h.data(), d, tables, q), z, dz) << q;
  }
  const double shrink =
      interval_shrink(parameter_quantile(std::vector<uint64_t>(kUniformBins, 1).data(), d, tables, 0.05),
                      parameter_quantile(std::vector<uint64_t>(kUniformBins, 1).data(), d, tables, 0.95),
                      parameter_quantile(h.data(), d, tables, 0.05), parameter_quantile(h.data(), d, tables, 0.95));
  // The 90 % interval's width scales with the sd: 1 - post_sd, within the four quantiles' bin errors
  // (each dz < 7e-4 here) over the prior width 3.29: below 1e-3.
  EXPECT_NEAR(shrink, 1.0 - post_sd, 1e-3);
}

TEST(ParameterQuantiles, EmptyAndBadArguments) {
  std::vector<uint64_t> h(kUniformBins, 0);
  const Dist d = testing::normal_dist(0.0, 1.0);
  const QuantileTables tables{};
  EXPECT_TRUE(std::isnan(parameter_quantile(h.data(), d, tables, 0.5)));
  EXPECT_THROW(parameter_quantile(h.data(), d, tables, 0.0), std::invalid_argument);
  EXPECT_THROW(parameter_quantile(h.data(), d, tables, 1.0), std::invalid_argument);
  EXPECT_EQ(interval_shrink(1, 1, 0, 5), 0.0);
  EXPECT_EQ(uniform_bin(0.0), 0);
  EXPECT_EQ(uniform_bin(0.99999999), kUniformBins - 1);
  EXPECT_EQ(uniform_bin(0.5), kUniformBins / 2);
}

}  // namespace
}  // namespace chipcast
