// The Sobol estimators (the code `chipcast sensitivity` runs) on the Ishigami function's known indices.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "host/analysis/sobol.h"

namespace chipcast {
namespace {

// Ishigami: f = sin x1 + a sin^2 x2 + b x3^4 sin x1, X_i ~ U(-pi, pi).
constexpr double kA = 7.0, kB = 0.1;
double ishigami(const double* x) {
  return std::sin(x[0]) + kA * std::sin(x[1]) * std::sin(x[1]) + kB * std::pow(x[2], 4) * std::sin(x[0]);
}

// Closed forms (Ishigami & Homma 1990; Sobol' & Levitan 1999).
struct Truth {
  double first[3], total[3];
};
Truth ishigami_truth() {
  const double pi4 = std::pow(M_PI, 4), pi8 = std::pow(M_PI, 8);
  const double v1 = 0.5 * std::pow(1 + kB * pi4 / 5, 2);
  const double v2 = kA * kA / 8;
  const double v13 = kB * kB * pi8 * (1.0 / 18 - 1.0 / 50);
  const double v = v1 + v2 + v13;
  return {{v1 / v, v2 / v, 0.0}, {(v1 + v13) / v, v2 / v, v13 / v}};
}

// Variance and kurtosis (fourth central moment / variance^2) of f, exactly:
// f - E f = U + V with U = sin x1 (1 + b x3^4) and V = -(a/2) cos(2 x2)
// independent and symmetric, so E(f - E f)^4 = E U^4 + 6 E U^2 E V^2 + E V^4,
// with E sin^2 = 1/2, E sin^4 = E cos^4 = 3/8 and E x3^(2k) = pi^(2k) / (2k + 1).
struct Moments {
  double variance, kurtosis;
};
Moments ishigami_moments() {
  double ex[5];  // E (x3^4)^j
  for (int j = 0; j < 5; ++j) ex[j] = std::pow(M_PI, 4 * j) / (4 * j + 1);
  const double ew2 = 1 + 2 * kB * ex[1] + kB * kB * ex[2];
  double ew4 = 0;
  const double binom4[5] = {1, 4, 6, 4, 1};
  for (int j = 0; j < 5; ++j) ew4 += binom4[j] * std::pow(kB, j) * ex[j];
  const double eu2 = 0.5 * ew2, eu4 = 3.0 / 8 * ew4;
  const double ev2 = kA * kA / 8, ev4 = std::pow(kA / 2, 4) * 3.0 / 8;
  const double var = eu2 + ev2;
  return {var, (eu4 + 6 * eu2 * ev2 + ev4) / (var * var)};
}

struct Design {
  std::vector<double> fa, fb;
  std::vector<std::vector<double>> fab;
};

Design ishigami_design(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-M_PI, M_PI);
  std::vector<double> a(3 * n), b(3 * n);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  Design d;
  d.fa.resize(n);
  d.fb.resize(n);
  d.fab.assign(3, std::vector<double>(n));
  for (size_t j = 0; j < n; ++j) {
    d.fa[j] = ishigami(&a[3 * j]);
    d.fb[j] = ishigami(&b[3 * j]);
    for (int i = 0; i < 3; ++i) {
      double x[3] = {a[3 * j], a[3 * j + 1], a[3 * j + 2]};
      x[i] = b[3 * j + i];
      d.fab[i][j] = ishigami(x);
    }
  }
  return d;
}

TEST(Sobol, TruthMatchesThePublishedValues) {
  const Truth t = ishigami_truth();
  EXPECT_NEAR(t.first[0], 0.3139, 1e-4);
  EXPECT_NEAR(t.first[1], 0.4424, 1e-4);
  EXPECT_NEAR(t.total[0], 0.5576, 1e-4);
  EXPECT_NEAR(t.total[2], 0.2437, 1e-4);
}

// N = 2^14 rows, 200 bootstrap replicates: every index within 5 bootstrap
// standard errors of the closed form, and the 95 % intervals are about as
// wide as 4 standard errors (percentile intervals of a near-normal statistic).
TEST(Sobol, IshigamiIndicesWithinFiveBootstrapStandardErrors) {
  const size_t n = size_t{1} << 14;
  const Design d = ishigami_design(n, 20260101);
  const std::vector<const double*> fab = {d.fab[0].data(), d.fab[1].data(), d.fab[2].data()};
  const analysis::SobolResult r = analysis::sobol_with_bootstrap(d.fa.data(), d.fb.data(), fab, n, 200, 7, 2);
  const Truth t = ishigami_truth();
  for (int i = 0; i < 3; ++i) {
    const double sf = r.first_stderr[i], st = r.total_stderr[i];
    ASSERT_GT(sf, 0) << i;
    ASSERT_GT(st, 0) << i;
    EXPECT_NEAR(r.point.first[i], t.first[i], 5 * sf) << "first-order index of x" << i + 1;
    EXPECT_NEAR(r.point.total[i], t.total[i], 5 * st) << "total index of x" << i + 1;
    // Sanity of the standard errors themselves: a few hundredths at this N, not 0 and not huge.
    EXPECT_LT(sf, 0.05) << i;
    EXPECT_LT(st, 0.05) << i;
    EXPECT_LE(r.first_ci95[i].lo, r.point.first[i] + 2 * sf);
    EXPECT_GE(r.first_ci95[i].hi, r.point.first[i] - 2 * sf);
    EXPECT_NEAR(r.first_ci95[i].hi - r.first_ci95[i].lo, 3.92 * sf, 1.5 * sf) << i;
  }
  // The variance is pooled over the 2n independent outputs f(A) and f(B); a
  // sample variance's standard error is sigma^2 sqrt((kurtosis - 1) / m) for m
  // values (sqrt(2 / m) for a normal, kurtosis 3; Ishigami's is 3.51).
  const Moments mo = ishigami_moments();
  EXPECT_NEAR(mo.variance, 13.8446, 1e-4);  // the closed form of ishigami_truth(), v1 + v2 + v13
  EXPECT_NEAR(r.point.variance, mo.variance, 5 * mo.variance * std::sqrt((mo.kurtosis - 1) / (2.0 * n)))
      << "kurtosis " << mo.kurtosis;
}

// The bootstrap is a pure function of its inputs and seed, whatever the thread count.
TEST(Sobol, BootstrapIsDeterministicAcrossThreads) {
  const size_t n = 4096;
  const Design d = ishigami_design(n, 99);
  const std::vector<const double*> fab = {d.fab[0].data(), d.fab[1].data(), d.fab[2].data()};
  const auto a = analysis::sobol_with_bootstrap(d.fa.data(), d.fb.data(), fab, n, 50, 3, 1);
  const auto b = analysis::sobol_with_bootstrap(d.fa.data(), d.fb.data(), fab, n, 50, 3, 2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.first_stderr[i], b.first_stderr[i]);
    EXPECT_EQ(a.total_ci95[i].lo, b.total_ci95[i].lo);
    EXPECT_EQ(a.total_ci95[i].hi, b.total_ci95[i].hi);
  }
  const auto c = analysis::sobol_with_bootstrap(d.fa.data(), d.fb.data(), fab, n, 50, 4, 2);
  EXPECT_NE(a.first_stderr[0], c.first_stderr[0]);
}

// Shifting the output by a constant (parity years are ~2040, not ~0) leaves
// the estimates unchanged up to rounding: f_B is centred before the product.
TEST(Sobol, EstimatesDoNotDependOnTheOutputsOffset) {
  const size_t n = 4096;
  Design d = ishigami_design(n, 5);
  const std::vector<const double*> fab0 = {d.fab[0].data(), d.fab[1].data(), d.fab[2].data()};
  const auto base = analysis::sobol_indices(d.fa.data(), d.fb.data(), fab0, n);
  for (auto* v : {&d.fa, &d.fb, &d.fab[0], &d.fab[1], &d.fab[2]})
    for (double& x : *v) x += 2040.0;
  const std::vector<const double*> fab = {d.fab[0].data(), d.fab[1].data(), d.fab[2].data()};
  const auto shifted = analysis::sobol_indices(d.fa.data(), d.fb.data(), fab, n);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(shifted.first[i], base.first[i], 1e-9);
    EXPECT_NEAR(shifted.total[i], base.total[i], 1e-9);
  }
}

TEST(Sobol, ConstantOutputGivesUndefinedIndices) {
  std::vector<double> c(100, 2060.0);
  const auto p = analysis::sobol_indices(c.data(), c.data(), {c.data()}, c.size());
  EXPECT_EQ(p.variance, 0.0);
  EXPECT_TRUE(std::isnan(p.first[0]));
  EXPECT_TRUE(std::isnan(p.total[0]));
}

}  // namespace
}  // namespace chipcast
