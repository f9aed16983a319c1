// [[correlations]] and [run] sampling: validation errors, the copula's Cholesky factor, and the draws it produces.
#include <gtest/gtest.h>

#include "tests/support/rank_statistics.h"

#include <algorithm>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "host/config/correlation_matrix.h"
#include "host/config/scenario.h"
#include "models/parity/trajectory.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using parity::bloc_param_index;
using parity::kDomestic;

// minimal.toml with three uncertain domestic parameters.
const char* kUncertain = R"(
[domestic]
wafer_growth = { dist = "normal", mean = 0.2, sd = 0.08, min = -0.1 }
learning_rate = { dist = "lognormal", median = 0.3, gsd = 1.6 }
perf_growth = { dist = "uniform", low = 0.1, high = 0.4 }
)";

class CorrelationsTest : public testing::ScenarioFileTest {
 protected:
  std::string scenario(const std::string& body) {
    return write("s.toml", "extends = \"" + testing::kMinimalToml + "\"\n" + kUncertain + body);
  }
};

std::string pair(const std::string& a, const std::string& b, double rank) {
  return "[[correlations]]\na = \"" + a + "\"\nb = \"" + b + "\"\nrank = " + std::to_string(rank) + "\n";
}

TEST_F(CorrelationsTest, FillsTheCopulaInOrderOfFirstMention) {
  auto s = load_scenario(scenario(pair("domestic.learning_rate", "domestic.wafer_growth", 0.5) +
                                  pair("domestic.perf_growth", "domestic.wafer_growth", -0.3)));
  const parity::SamplingDesign& d = s->params.design;
  ASSERT_EQ(d.num_correlated, 3);
  EXPECT_EQ(d.corr_index[0], bloc_param_index(kDomestic, parity::kLearningRate));
  EXPECT_EQ(d.corr_index[1], bloc_param_index(kDomestic, parity::kWaferGrowth));
  EXPECT_EQ(d.corr_index[2], bloc_param_index(kDomestic, parity::kPerfGrowth));
  ASSERT_EQ(s->correlations.size(), 2u);
  // L L^T is the normal-scale matrix r = 2 sin(pi rho / 6).
  const double r01 = 2 * std::sin(M_PI * 0.5 / 6), r12 = 2 * std::sin(M_PI * -0.3 / 6);
  const double want[3][3] = {{1, r01, 0}, {r01, 1, r12}, {0, r12, 1}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double v = 0;
      for (int k = 0; k < 3; ++k) v += d.chol[i][k] * d.chol[j][k];
      EXPECT_NEAR(v, want[i][j], 1e-14) << i << "," << j;
    }
  EXPECT_EQ(d.latin, 0);
  EXPECT_NE(s->resolved_toml.find("correlations"), std::string::npos);
}

TEST_F(CorrelationsTest, UnknownNameIsAnErrorNamingIt) {
  const std::string e = error_of(scenario(pair("domestic.wafer_growth", "domestic.learnin_rate", 0.5)));
  EXPECT_NE(e.find("correlations[0].b"), std::string::npos) << e;
  EXPECT_NE(e.find("\"domestic.learnin_rate\""), std::string::npos) << e;
  EXPECT_NE(e.find("unknown parameter"), std::string::npos) << e;
  EXPECT_NE(e.find("domestic.learning_rate"), std::string::npos) << e;  // the valid names are listed
}

TEST_F(CorrelationsTest, FixedParameterIsAnErrorNamingIt) {
  const std::string e = error_of(scenario(pair("domestic.wafer_growth", "foreign.wafer_growth", 0.5)));
  EXPECT_NE(e.find("correlations[0].b"), std::string::npos) << e;
  EXPECT_NE(e.find("\"foreign.wafer_growth\""), std::string::npos) << e;
  EXPECT_NE(e.find("fixed parameter"), std::string::npos) << e;
}

TEST_F(CorrelationsTest, RankMustBeInsideMinusOneOne) {
  for (const char* bad : {"1.0", "-1", "1.5"}) {
    const std::string e =
        error_of(scenario("[[correlations]]\na = \"domestic.wafer_growth\"\nb = \"domestic.learning_rate\"\nrank = " +
                          std::string(bad) + "\n"));
    EXPECT_NE(e.find("correlations[0].rank"), std::string::npos) << e;
    EXPECT_NE(e.find("|rank| < 1"), std::string::npos) << e;
  }
}

TEST_F(CorrelationsTest, SelfAndDuplicatePairsAndUnknownKeysAreErrors) {
  EXPECT_NE(error_of(scenario(pair("domestic.wafer_growth", "domestic.wafer_growth", 0.5))).find("itself"),
            std::string::npos);
  const std::string dup = error_of(scenario(pair("domestic.wafer_growth", "domestic.learning_rate", 0.5) +
                                            pair("domestic.learning_rate", "domestic.wafer_growth", 0.2)));
  EXPECT_NE(dup.find("correlations[1]"), std::string::npos) << dup;
  EXPECT_NE(dup.find("already correlated by correlations[0]"), std::string::npos) << dup;
  const std::string key = error_of(
      scenario("[[correlations]]\na = \"domestic.wafer_growth\"\nb = \"domestic.learning_rate\"\nspearman = 0.5\n"));
  EXPECT_NE(key.find("correlations[0].spearman"), std::string::npos) << key;
}

TEST_F(CorrelationsTest, ImpossibleMatrixNamesThePairWhereTheFactorisationFails) {
  // a-b and b-c strongly positive force a-c positive: -0.9 is impossible.
  const std::string e = error_of(scenario(pair("domestic.wafer_growth", "domestic.learning_rate", 0.9) +
                                          pair("domestic.learning_rate", "domestic.perf_growth", 0.9) +
                                          pair("domestic.wafer_growth", "domestic.perf_growth", -0.9)));
  // perf_growth is the third parameter mentioned, where the factorisation fails; of its
  // correlations with the two before it (|0.9| twice) the later-listed one is named.
  EXPECT_NE(e.find("correlations[2]"), std::string::npos) << e;
  EXPECT_NE(e.find("not positive definite once domestic.perf_growth is added"), std::string::npos) << e;
  EXPECT_NE(e.find("domestic.wafer_growth"), std::string::npos) << e;
  EXPECT_NE(e.find("smaller correlations"), std::string::npos) << e;
  // The same three at a consistent level load.
  EXPECT_NO_THROW(load_scenario(scenario(pair("domestic.wafer_growth", "domestic.learning_rate", 0.9) +
                                         pair("domestic.learning_rate", "domestic.perf_growth", 0.9) +
                                         pair("domestic.wafer_growth", "domestic.perf_growth", 0.7))));
}

TEST_F(CorrelationsTest, CholeskyReportsTheFirstBadRow) {
  std::vector<double> l;
  EXPECT_EQ(config::cholesky_lower({1, 0.5, 0.5, 1}, 2, l), -1);
  EXPECT_DOUBLE_EQ(l[3], std::sqrt(0.75));
  EXPECT_EQ(config::cholesky_lower({1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1}, 3, l), 2);
  EXPECT_EQ(config::cholesky_lower({1, 1, 1, 1}, 2, l), 1);  // singular
}

TEST_F(CorrelationsTest, SamplingKeyAndOverrideSetTheLatinDesign) {
  auto a = load_scenario(scenario("[run]\ntrajectories = 5000\nsampling = \"latin\"\n"));
  EXPECT_EQ(a->params.design.latin, 1);
  EXPECT_EQ(a->params.design.latin_n, 5000u);
  EXPECT_EQ(a->run.sampling, "latin");
  Overrides o;
  o.sampling = "latin";
  o.trajectories = 777;
  auto b = load_scenario(scenario(""), o);
  EXPECT_EQ(b->params.design.latin, 1);
  EXPECT_EQ(b->params.design.latin_n, 777u);
  EXPECT_NE(b->resolved_toml.find("sampling = 'latin'"), std::string::npos) << b->resolved_toml;
  o.sampling = "independent";
  auto c = load_scenario(scenario("[run]\nsampling = \"latin\"\n"), o);
  EXPECT_EQ(c->params.design.latin, 0);
  EXPECT_NE(c->resolved_toml.find("sampling = 'independent'"), std::string::npos);
  const std::string e = error_of(scenario("[run]\nsampling = \"sobol\"\n"));
  EXPECT_NE(e.find("run.sampling"), std::string::npos) << e;
  EXPECT_NE(e.find("\"sobol\""), std::string::npos) << e;
  o.sampling = "halton";
  const std::string e2 = error_of(scenario(""), o);
  EXPECT_NE(e2.find("\"halton\" (command line)"), std::string::npos) << e2;
}

using testing::pearson;
using testing::ranks;

// Kolmogorov-Smirnov distance of a sample from a CDF.
template <class Cdf>
double ks_distance(std::vector<double> x, Cdf cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    const double f = cdf(x[k]);
    d = std::max({d, std::fabs(f - k / n), std::fabs(f - (k + 1) / n)});
  }
  return d;
}

// End to end through the kernel's parameter draws (what every backend runs):
// the declared Spearman correlation is achieved within 5 standard errors, and
// each marginal still follows its declared distribution (KS vs Boost.Math),
// with and without the Latin hypercube.
TEST_F(CorrelationsTest, DrawsHaveTheRankCorrelationAndTheDeclaredMarginals) {
  const double rho = 0.6;
  const uint64_t n = 20000;
  for (const char* sampling : {"independent", "latin"}) {
    Overrides o;
    o.sampling = sampling;
    o.trajectories = n;
    auto s = load_scenario(scenario(pair("domestic.wafer_growth", "domestic.learning_rate", rho)), o);
    const int ig = bloc_param_index(kDomestic, parity::kWaferGrowth);
    const int il = bloc_param_index(kDomestic, parity::kLearningRate);
    std::vector<double> g(n), lr(n);
    constexpr int L = 16;
    for (uint64_t first = 0; first < n; first += L) {
      double v[parity::kMaxParams][L];
      parity::draw_all_parameters<L>(s->params, first, v);
      for (int l = 0; l < L && first + l < n; ++l) {
        g[first + l] = v[ig][l];
        lr[first + l] = v[il][l];
      }
    }
    const double achieved = pearson(ranks(g), ranks(lr));
    const double se = (1 - rho * rho) / std::sqrt(n - 3.0) * 1.06;  // Fisher-type SE of Spearman's rho
    EXPECT_NEAR(achieved, rho, 5 * se) << sampling;
    // KS at a 5-sigma-like level: P(D > c) ~ 2 exp(-2 n c^2) = 5.7e-7.
    const double crit = std::sqrt(std::log(2 / 5.7e-7) / (2.0 * n));
    const boost::math::normal_distribution<double> normal(0.2, 0.08);
    const double lo = boost::math::cdf(normal, -0.1);
    EXPECT_LT(ks_distance(g, [&](double x) { return (boost::math::cdf(normal, x) - lo) / (1 - lo); }), crit)
        << sampling;
    const boost::math::lognormal_distribution<double> lognormal(std::log(0.3), std::log(1.6));
    EXPECT_LT(ks_distance(lr, [&](double x) { return boost::math::cdf(lognormal, x); }), crit) << sampling;
    // An uncorrelated uncertain parameter stays independent of both.
    std::vector<double> pg(n);
    const int ip = bloc_param_index(kDomestic, parity::kPerfGrowth);
    for (uint64_t first = 0; first < n; first += L) {
      double v[parity::kMaxParams][L];
      parity::draw_all_parameters<L>(s->params, first, v);
      for (int l = 0; l < L && first + l < n; ++l) pg[first + l] = v[ip][l];
    }
    EXPECT_LT(std::fabs(pearson(ranks(pg), ranks(g))), 5 / std::sqrt(n - 1.0)) << sampling;
  }
}

}  // namespace
}  // namespace chipcast
