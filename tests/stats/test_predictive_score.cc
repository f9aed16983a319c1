// Tests of host/stats/predictive_score: the observation's predictive mixture, PIT, coverage and CRPS.
#include "host/stats/predictive_score.h"

#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/tally/tally_layout.h"

namespace chipcast {
namespace {

using boost::math::normal_distribution;

LogNormalMixture three_components() {
  LogNormalMixture m;
  m.weight = {0.2, 0.5, 0.3};
  m.mean = {-1.0, 0.4, 2.5};
  m.sd = 0.7;
  return m;
}

// The CDF as a sum of Boost.Math normal CDFs, written independently of the code's erfc.
double boost_cdf(const LogNormalMixture& m, double x) {
  double c = m.minus_inf;
  for (size_t i = 0; i < m.weight.size(); ++i)
    c += m.weight[i] * boost::math::cdf(normal_distribution<double>(m.mean[i], m.sd), x);
  return c;
}

// CRPS by its definition, integral of (F(x) - 1{x >= y})^2, with adaptive
// Gauss-Kronrod on each side of y (the integrand jumps at y) out to 40 sd
// beyond every component, where it is below 1e-300.
double crps_by_integration(const LogNormalMixture& m, double y) {
  double lo = y, hi = y;
  for (double mu : m.mean) {
    lo = std::fmin(lo, mu - 40.0 * m.sd);
    hi = std::fmax(hi, mu + 40.0 * m.sd);
  }
  auto below = [&](double x) { return std::pow(boost_cdf(m, x), 2); };
  auto above = [&](double x) { return std::pow(1.0 - boost_cdf(m, x), 2); };
  double err = 0;
  const double a = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(below, lo, y, 15, 1e-13, &err);
  const double b = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(above, y, hi, 15, 1e-13, &err);
  return a + b;
}

TEST(PredictiveScore, CdfIsTheWeightedSumOfNormalCdfs) {
  const LogNormalMixture m = three_components();
  for (double x : {-4.0, -1.0, 0.0, 0.4, 1.3, 2.5, 6.0}) EXPECT_NEAR(mixture_cdf(m, x), boost_cdf(m, x), 1e-15) << x;
}

TEST(PredictiveScore, QuantileInvertsTheCdf) {
  const LogNormalMixture m = three_components();
  for (double p : {0.05, 0.25, 0.5, 0.75, 0.95}) {
    const double x = mixture_quantile(m, p);
    EXPECT_NEAR(boost_cdf(m, x), p, 1e-11) << p;
  }
  EXPECT_THROW(mixture_quantile(m, 0.0), std::invalid_argument);
  EXPECT_THROW(mixture_quantile(m, 1.0), std::invalid_argument);
}

// One component: the normal's own CRPS, Gneiting and Raftery (2007):
// s [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)], z = (y - mu) / s, with Boost.Math's pdf and cdf.
TEST(PredictiveScore, CrpsOfOneNormalIsTheGneitingFormula) {
  LogNormalMixture m;
  m.weight = {1.0};
  m.mean = {1.5};
  m.sd = 0.4;
  const normal_distribution<double> n01;
  for (double y : {-1.0, 0.9, 1.5, 2.2, 4.0}) {
    const double z = (y - 1.5) / 0.4;
    const double expected =
        0.4 * (z * (2.0 * boost::math::cdf(n01, z) - 1.0) + 2.0 * boost::math::pdf(n01, z) - 1.0 / std::sqrt(M_PI));
    EXPECT_NEAR(mixture_crps(m, y), expected, 1e-14) << y;
  }
}

TEST(PredictiveScore, CrpsOfAMixtureMatchesNumericIntegration) {
  const LogNormalMixture m = three_components();
  for (double y : {-3.0, -1.0, 0.0, 0.9, 2.5, 5.0}) {
    const double numeric = crps_by_integration(m, y);
    // The quadrature's own tolerance is 1e-13 relative; both are O(1).
    EXPECT_NEAR(mixture_crps(m, y), numeric, 1e-10) << y;
  }
}

TEST(PredictiveScore, CoverageAgreesWithTheBandQuantiles) {
  const LogNormalMixture m = three_components();
  const double q05 = mixture_quantile(m, 0.05), q25 = mixture_quantile(m, 0.25);
  const double q75 = mixture_quantile(m, 0.75), q95 = mixture_quantile(m, 0.95);
  for (double y = -4.0; y <= 6.0; y += 0.01) {
    const PredictiveScore s = score_observation(m, y);
    // Points within 1e-9 of a band edge are left out: bisection puts the edge there only to 1e-12.
    if (std::fabs(y - q25) > 1e-9 && std::fabs(y - q75) > 1e-9) {
      EXPECT_EQ(s.covered50, y >= q25 && y <= q75) << y;
    }
    if (std::fabs(y - q05) > 1e-9 && std::fabs(y - q95) > 1e-9) {
      EXPECT_EQ(s.covered90, y >= q05 && y <= q95) << y;
    }
    EXPECT_NEAR(s.pit, boost_cdf(m, y), 1e-15);
  }
}

// Bins a positive value as the kernels do.
int bin_of(double x) { return level_bin(std::log(static_cast<float>(x)), x == 0.0, std::isinf(x)); }

TEST(PredictiveScore, MixtureFromAHistogramPutsEachBinAtItsCentre) {
  std::vector<uint64_t> h(kLevelBins, 0);
  h[bin_of(1e5)] += 3;
  h[bin_of(2e5)] += 1;
  const LogNormalMixture m = predictive_mixture(h.data(), 0.3);
  ASSERT_EQ(m.weight.size(), 2u);
  EXPECT_DOUBLE_EQ(m.weight[0], 0.75);
  EXPECT_DOUBLE_EQ(m.weight[1], 0.25);
  // Centres within half a bin (0.005 decade) of the binned values.
  EXPECT_NEAR(m.mean[0], std::log(1e5), 0.005 * std::log(10.0) + 1e-12);
  EXPECT_NEAR(m.mean[1], std::log(2e5), 0.005 * std::log(10.0) + 1e-12);
  EXPECT_EQ(m.sd, 0.3);

  h[kBinZero] = 4;
  const LogNormalMixture z = predictive_mixture(h.data(), 0.3);
  EXPECT_DOUBLE_EQ(z.minus_inf, 0.5);
  EXPECT_NEAR(mixture_cdf(z, -50.0), 0.5, 1e-15);
  EXPECT_EQ(mixture_quantile(z, 0.25), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(mixture_crps(z, 10.0), std::numeric_limits<double>::infinity());

  std::vector<uint64_t> empty(kLevelBins, 0);
  EXPECT_THROW(predictive_mixture(empty.data(), 0.3), std::invalid_argument);
  EXPECT_THROW(predictive_mixture(h.data(), 0.0), std::invalid_argument);
}

// Observations drawn from the predictive distribution itself (a simulated
// value from the histogram's sample, times its lognormal error) have uniform
// PITs: the 50 % and 90 % bands cover them at those rates within 5 binomial
// sigma, and the mean PIT is 1/2 within 5 sigma of sqrt(1/12 / n).
TEST(PredictiveScore, SelfDrawnObservationsHaveUniformPits) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> sim(std::log(3e5), 0.8);
  std::vector<uint64_t> h(kLevelBins, 0);
  std::vector<double> sims;
  for (int i = 0; i < 200000; ++i) {
    sims.push_back(sim(rng));
    ++h[bin_of(sims.back())];
  }
  const double sd = 0.25;
  const LogNormalMixture m = predictive_mixture(h.data(), sd);
  std::normal_distribution<double> err(0.0, sd);
  std::uniform_int_distribution<size_t> pick(0, sims.size() - 1);
  const int n = 4000;
  int c50 = 0, c90 = 0;
  double pit_sum = 0;
  const double spread = mixture_spread(m);
  for (int i = 0; i < n; ++i) {
    const PredictiveScore s = score_observation(m, std::log(sims[pick(rng)]) + err(rng), spread);
    EXPECT_GT(s.crps, 0.0);
    c50 += s.covered50;
    c90 += s.covered90;
    pit_sum += s.pit;
  }
  EXPECT_NEAR(c50 / double(n), 0.5, 5.0 * std::sqrt(0.25 / n));
  EXPECT_NEAR(c90 / double(n), 0.9, 5.0 * std::sqrt(0.09 / n));
  EXPECT_NEAR(pit_sum / n, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n));
}

}  // namespace
}  // namespace chipcast
