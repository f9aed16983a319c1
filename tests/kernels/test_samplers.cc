// Every sampler (inverse CDF, truncation) against Boost.Math's CDF by Kolmogorov-Smirnov at a fixed seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/distributions/uniform.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "kernels/distributions.h"
#include "kernels/philox_stream.h"

namespace chipcast {
namespace {

constexpr int kSamples = 40000;
// KS threshold at a false-alarm probability of ~5.7e-7 (two-sided, "5 sigma"):
// P(D > d) ~ 2 exp(-2 n d^2).
double ks_threshold(int n) { return std::sqrt(std::log(2.0 / 5.7e-7) / (2.0 * n)); }

double ks_statistic(std::vector<double> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, std::fabs(f - i / n), std::fabs(f - (i + 1) / n)});
  }
  return d;
}

std::vector<double> draw(const Dist& d, const QuantileTables& t, uint64_t seed) {
  std::vector<double> out(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    const Words4 w = philox_words(seed, static_cast<uint64_t>(i), kParameterPeriod, 0);
    out[i] = dist_quantile(d, t, uniform_open(w.w1));
  }
  return out;
}

template <class Boost>
std::function<double(double)> truncated_cdf(const Boost& dist, double lo, double hi) {
  const double flo = std::isfinite(lo) ? cdf(dist, lo) : 0.0;
  const double fhi = std::isfinite(hi) ? cdf(dist, hi) : 1.0;
  return [=](double x) {
    if (x <= lo) return 0.0;
    if (x >= hi) return 1.0;
    return (cdf(dist, x) - flo) / (fhi - flo);
  };
}

class SamplerTest : public ::testing::Test {
 protected:
  std::unique_ptr<QuantileTables> tables = std::make_unique<QuantileTables>();
  void expect_ks(const Dist& d, const std::function<double(double)>& cdf, uint64_t seed = 11) {
    const auto x = draw(d, *tables, seed);
    for (double v : x) {
      ASSERT_GE(v, d.lo);
      ASSERT_LE(v, d.hi);
    }
    EXPECT_LT(ks_statistic(x, cdf), ks_threshold(kSamples));
  }
  template <class Boost>
  void truncate(Dist& d, const Boost& dist, double lo, double hi) {
    d.lo = lo;
    d.hi = hi;
    d.u_lo = std::isfinite(lo) ? cdf(dist, lo) : 0.0;
    d.u_hi = std::isfinite(hi) ? cdf(dist, hi) : 1.0;
  }
  void fill_beta_table(int t, double a, double b) {
    for (int i = 0; i < kTableSize; ++i) {
      const double u = static_cast<double>(i) / (kTableSize - 1);
      tables->q[t][i] = i == 0 ? 0.0 : (i == kTableSize - 1 ? 1.0 : boost::math::ibeta_inv(a, b, u));
    }
  }
};

TEST_F(SamplerTest, NormalQuantileMatchesBoostToRoundoff) {
  boost::math::normal n;
  for (double p : {1e-12, 1e-6, 0.001, 0.02425, 0.1, 0.425, 0.5, 0.7, 0.975, 0.999999, 1 - 1e-12})
    EXPECT_NEAR(normal_quantile(p), quantile(n, p), 1e-12 * std::max(1.0, std::fabs(quantile(n, p))));
}

// normal_quantile_lanes skips the tails' work in blocks with no lane in a
// tail, and the far tail's (p < ~1.4e-11) in blocks with no lane there: every
// kind of block, each lane against Boost.Math.
TEST_F(SamplerTest, NormalQuantileLanesMatchesBoostInEveryKindOfBlock) {
  constexpr int L = 16;
  boost::math::normal n;
  const std::vector<std::vector<double>> blocks = {
      {0.5, 0.3, 0.7, 0.1, 0.9, 0.076, 0.924, 0.2, 0.8, 0.45, 0.55, 0.35, 0.65, 0.25, 0.75, 0.6},       // central only
      {0.5, 0.02, 0.98, 0.001, 0.999, 0.07, 0.93, 0.3, 1e-6, 1 - 1e-6, 0.5, 0.4, 0.6, 0.2, 0.8, 0.01},  // near tails
      {0.5, 0.3, 0.7, 0.1, 0.9, 0.2, 0.8, 0.4, 0.45, 0.55, 0.35, 0.65, 0.25, 0.75, 0.6,
       1e-20},  // one far tail, in the last lane
      {1e-15, 1 - 1e-12, 1e-12, 0.02, 0.98, 1e-6, 0.999999, 0.05, 0.95, 1e-9, 1 - 1e-9, 0.07, 0.93, 0.001, 0.999,
       1e-300},  // tails only, both far
  };
  for (const auto& block : blocks) {
    double p[L], z[L];
    std::copy(block.begin(), block.end(), p);
    normal_quantile_lanes<L>(p, z);
    for (int l = 0; l < L; ++l) {
      const double want = quantile(n, p[l]);
      EXPECT_NEAR(z[l], want, 1e-12 * std::max(1.0, std::fabs(want))) << "p = " << p[l];
    }
  }
}

TEST_F(SamplerTest, Normal) {
  Dist d;
  d.kind = DistKind::normal;
  d.p0 = 0.2;
  d.p1 = 0.08;
  boost::math::normal b(0.2, 0.08);
  expect_ks(d, [&](double x) { return cdf(b, x); });
}

TEST_F(SamplerTest, NormalTruncated) {
  Dist d;
  d.kind = DistKind::normal;
  d.p0 = 0.2;
  d.p1 = 0.08;
  boost::math::normal b(0.2, 0.08);
  truncate(d, b, 0.15, INFINITY);
  expect_ks(d, truncated_cdf(b, 0.15, INFINITY));
}

TEST_F(SamplerTest, Lognormal) {
  Dist d;
  d.kind = DistKind::lognormal;
  d.p0 = std::log(20000.0);
  d.p1 = std::log(1.4);
  boost::math::lognormal b(std::log(20000.0), std::log(1.4));
  expect_ks(d, [&](double x) { return cdf(b, x); });
}

TEST_F(SamplerTest, LognormalTruncatedBothSides) {
  Dist d;
  d.kind = DistKind::lognormal;
  d.p0 = std::log(3.0);
  d.p1 = std::log(2.0);
  boost::math::lognormal b(std::log(3.0), std::log(2.0));
  truncate(d, b, 1.0, 6.0);
  expect_ks(d, truncated_cdf(b, 1.0, 6.0));
}

TEST_F(SamplerTest, Uniform) {
  Dist d;
  d.kind = DistKind::uniform;
  d.p0 = 0.3;
  d.p1 = 0.9;
  boost::math::uniform b(0.3, 0.9);
  expect_ks(d, [&](double x) { return cdf(b, x); });
}

TEST_F(SamplerTest, TriangularTruncated) {
  Dist d;
  d.kind = DistKind::triangular;
  d.p0 = 1.0;
  d.p1 = 2.0;
  d.p2 = 5.0;
  boost::math::triangular b(1.0, 2.0, 5.0);
  expect_ks(d, [&](double x) { return cdf(b, x); });
  truncate(d, b, 1.5, 4.0);
  expect_ks(d, truncated_cdf(b, 1.5, 4.0), 12);
}

TEST_F(SamplerTest, BetaRescaledAndTruncated) {
  fill_beta_table(0, 4.0, 6.0);
  Dist d;
  d.kind = DistKind::beta;
  d.table = 0;
  d.p0 = 0.0;
  d.p1 = 1.0;
  boost::math::beta_distribution<> b(4.0, 6.0);
  expect_ks(d, [&](double x) { return cdf(b, x); });
  // Rescaled to [0.2, 0.8] and truncated to [0.3, 0.6] on that scale.
  d.p0 = 0.2;
  d.p1 = 0.8;
  d.lo = 0.3;
  d.hi = 0.6;
  d.u_lo = cdf(b, (0.3 - 0.2) / 0.6);
  d.u_hi = cdf(b, (0.6 - 0.2) / 0.6);
  expect_ks(
      d,
      [&](double x) {
        if (x <= 0.3) return 0.0;
        if (x >= 0.6) return 1.0;
        return (cdf(b, (x - 0.2) / 0.6) - d.u_lo) / (d.u_hi - d.u_lo);
      },
      13);
}

TEST_F(SamplerTest, BetaWithSingularDensity) {
  fill_beta_table(1, 0.5, 0.7);
  Dist d;
  d.kind = DistKind::beta;
  d.table = 1;
  d.p0 = 0.0;
  d.p1 = 1.0;
  boost::math::beta_distribution<> b(0.5, 0.7);
  expect_ks(d, [&](double x) { return cdf(b, x); });
}

TEST_F(SamplerTest, BoxMullerNormals) {
  std::vector<double> z;
  z.reserve(kSamples);
  for (int i = 0; i < kSamples / 2; ++i) {
    const Words4 w = philox_words(99, static_cast<uint64_t>(i), 3, kSlotNormalsA);
    float a, b;
    box_muller(w.w0, w.w1, a, b);
    z.push_back(a);
    z.push_back(b);
  }
  boost::math::normal n;
  // Pairs from one call are independent normals; KS on the pooled sample.
  EXPECT_LT(ks_statistic(z, [&](double x) { return cdf(n, x); }), ks_threshold(kSamples));
}

TEST_F(SamplerTest, WrongSamplerIsCaught) {
  // The KS check must be able to fail: a normal with the wrong sd is rejected.
  Dist d;
  d.kind = DistKind::normal;
  d.p0 = 0.0;
  d.p1 = 1.1;
  boost::math::normal b(0.0, 1.0);
  const auto x = draw(d, *tables, 5);
  EXPECT_GT(ks_statistic(x, [&](double v) { return cdf(b, v); }), ks_threshold(kSamples));
}

}  // namespace
}  // namespace chipcast
