// Sampling-design extensions of the parameter draws: Latin hypercube strata, Gaussian-copula rank correlation, streams.
#include <gtest/gtest.h>

#include "tests/support/rank_statistics.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "models/parity/trajectory.h"
#include "tests/support/model_fixtures.h"

namespace chipcast {
namespace {

using parity::bloc_param_index;
using parity::kDomestic;
using parity::kForeign;

constexpr int kL = 16;

// Uniforms of every trajectory in [0, n) for parameter index `i`.
std::vector<double> uniforms(const parity::ModelParams& p, uint64_t n, int i) {
  std::vector<double> out(n);
  for (uint64_t first = 0; first < n; first += kL) {
    double u[parity::kMaxParams][kL];
    parity::parameter_uniforms<kL>(p, first, u);
    for (int l = 0; l < kL && first + l < n; ++l) out[first + l] = u[i][l];
  }
  return out;
}

std::unique_ptr<parity::ModelParams> two_uncertain_params() {
  auto p = testing::brownian_params(1.0, 0.1, 0.2, 0.25, 4, 424242);
  Dist d;
  d.kind = DistKind::uniform;
  d.p0 = 0.0;
  d.p1 = 1.0;
  p->params[bloc_param_index(kDomestic, parity::kWaferGrowth)] = d;
  p->params[bloc_param_index(kForeign, parity::kWaferGrowth)] = d;
  return p;
}

using testing::pearson;
using testing::ranks;

TEST(SamplingDesign, LatinHypercubeHitsEveryStratumOnce) {
  auto p = two_uncertain_params();
  const uint64_t n = 1000;
  p->design.latin = 1;
  p->design.latin_n = n;
  for (int i : {bloc_param_index(kDomestic, parity::kWaferGrowth), bloc_param_index(kForeign, parity::kWaferGrowth)}) {
    const auto u = uniforms(*p, n, i);
    std::vector<int> hits(n, 0);
    for (double v : u) {
      ASSERT_GT(v, 0.0);
      ASSERT_LT(v, 1.0);
      ++hits[static_cast<size_t>(v * n)];
    }
    EXPECT_EQ(*std::min_element(hits.begin(), hits.end()), 1);
    EXPECT_EQ(*std::max_element(hits.begin(), hits.end()), 1);
  }
  // Without the design the same check fails (independent uniforms collide).
  p->design.latin = 0;
  const auto u = uniforms(*p, n, bloc_param_index(kDomestic, parity::kWaferGrowth));
  std::vector<int> hits(n, 0);
  for (double v : u) ++hits[static_cast<size_t>(v * n)];
  EXPECT_GT(*std::max_element(hits.begin(), hits.end()), 1);
}

TEST(SamplingDesign, LatinPermutationIsABijection) {
  for (uint64_t n : {1ull, 2ull, 7ull, 64ull, 1000ull}) {
    std::vector<int> seen(n, 0);
    for (uint64_t t = 0; t < n; ++t) ++seen[parity::latin_permute(5, 3, n, t)];
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(n)) << n;
  }
}

// Spearman rank correlation rho_S is imposed through a Gaussian copula with
// normal-scale correlation r = 2 sin(pi rho_S / 6); the achieved rank
// correlation is within 5 standard errors (~ 1/sqrt(n - 1) for Spearman) and the marginals stay uniform.
TEST(SamplingDesign, CopulaImposesRankCorrelationAndKeepsMarginals) {
  auto p = two_uncertain_params();
  const double rho_s = 0.6;
  const double r = 2 * std::sin(M_PI * rho_s / 6);
  const int a = bloc_param_index(kDomestic, parity::kWaferGrowth), b = bloc_param_index(kForeign, parity::kWaferGrowth);
  p->design.num_correlated = 2;
  p->design.corr_index[0] = a;
  p->design.corr_index[1] = b;
  p->design.chol[0][0] = 1.0;
  p->design.chol[1][0] = r;
  p->design.chol[1][1] = std::sqrt(1 - r * r);
  const uint64_t n = 20000;
  const auto ua = uniforms(*p, n, a), ub = uniforms(*p, n, b);
  const double achieved = pearson(ranks(ua), ranks(ub));
  const double se = (1 - rho_s * rho_s) / std::sqrt(n - 3.0) * 1.06;  // Fisher-type SE of Spearman's rho
  EXPECT_NEAR(achieved, rho_s, 5 * se);
  // Marginals: KS against U(0, 1) for both.
  for (auto u : {ua, ub}) {
    std::sort(u.begin(), u.end());
    double d = 0;
    for (size_t k = 0; k < u.size(); ++k)
      d = std::max({d, std::fabs(u[k] - k / double(n)), std::fabs(u[k] - (k + 1) / double(n))});
    EXPECT_LT(d, std::sqrt(std::log(2 / 5.7e-7) / (2.0 * n)));
  }
}

TEST(SamplingDesign, StreamsAreIndependentButReproducible) {
  auto p = two_uncertain_params();
  const int a = bloc_param_index(kDomestic, parity::kWaferGrowth);
  const auto s0 = uniforms(*p, 2000, a);
  p->design.stream[a] = 1;
  const auto s1 = uniforms(*p, 2000, a);
  EXPECT_NE(s0, s1);
  EXPECT_LT(std::fabs(pearson(s0, s1)), 5 / std::sqrt(2000.0));
  EXPECT_EQ(s1, uniforms(*p, 2000, a));
}

}  // namespace
}  // namespace chipcast
