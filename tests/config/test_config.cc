// load_scenario: parsing, distributions, extends merging, policy, shocks, overrides, and every error kind.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/distributions/uniform.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>

#include "host/config/scenario.h"
#include "kernels/tally/time_grid.h"
#include "tests/support/scenario_files.h"

namespace chipcast {
namespace {

using parity::bloc_param_index;
using parity::effect_param_index;
using parity::shock_rate_index;

std::string data(const std::string& name) { return std::string(CHIPCAST_SOURCE_DIR) + "/tests/config/data/" + name; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string sha256_of(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

class ConfigTest : public testing::ScenarioFileTest {
 protected:
  // A scenario that starts from minimal.toml and overrides it with `body`.
  std::string scenario(const std::string& body, const std::string& name = "scenario.toml") {
    return write(name, "extends = \"" + data("minimal.toml") + "\"\n" + body);
  }
  // Loading `body` (over minimal.toml) fails with a message naming the file and every one of `parts`.
  void expect_error(const std::string& body, std::initializer_list<std::string> parts) {
    const std::string path = scenario(body);
    const std::string msg = error_of(path);
    EXPECT_NE(msg.find(path), std::string::npos) << "file not named: " << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' missing in: " << msg;
  }
};

const Dist& param(const Scenario& s, int bloc, int p) { return s.params.params[bloc_param_index(bloc, p)]; }

// ---------------------------------------------------------------- valid files

TEST_F(ConfigTest, MinimalLoadsWithTimeAndIndices) {
  const auto s = load_scenario(data("minimal.toml"));
  EXPECT_EQ(s->path, data("minimal.toml"));
  EXPECT_EQ(s->params.periods, 40);
  EXPECT_EQ(s->params.sub_bins, 25);
  EXPECT_EQ(s->params.sub_bins, sub_bins_for(0.25));
  EXPECT_DOUBLE_EQ(s->params.dt, 0.25);
  EXPECT_DOUBLE_EQ(s->params.start_year, 2026.0);
  EXPECT_DOUBLE_EQ(s->run.horizon_year, 2036.0);
  // Defaults of RunSettings.
  EXPECT_EQ(s->run.trajectories, 1000000u);
  EXPECT_EQ(s->run.seed, 2026u);
  EXPECT_EQ(s->params.seed, 2026u);
  EXPECT_DOUBLE_EQ(s->params.threshold, 1.0);
  EXPECT_EQ(s->params.sustain, 1);

  EXPECT_EQ(param(*s, parity::kDomestic, parity::kWafers0).kind, DistKind::fixed);
  EXPECT_DOUBLE_EQ(param(*s, parity::kDomestic, parity::kWafers0).p0, 20000);
  EXPECT_DOUBLE_EQ(param(*s, parity::kDomestic, parity::kDiesPerWafer).p0, 60);
  EXPECT_DOUBLE_EQ(param(*s, parity::kDomestic, parity::kPackagingGrowth).p0, 0.3);
  EXPECT_DOUBLE_EQ(param(*s, parity::kForeign, parity::kWafers0).p0, 100000);
  EXPECT_DOUBLE_EQ(param(*s, parity::kForeign, parity::kHbmPerChip0).p0, 96);
  EXPECT_DOUBLE_EQ(param(*s, parity::kForeign, parity::kPerfGrowth).p0, 0.3);
  EXPECT_EQ(param(*s, parity::kForeign, parity::kPackaging0).p0, INFINITY);  // a ceiling may be inf
  EXPECT_DOUBLE_EQ(s->params.params[bloc_param_index(1, 17)].p0, 0.2);

  // No [policy]: one regime "none" with default effects.
  ASSERT_EQ(s->regime_names.size(), 1u);
  EXPECT_EQ(s->regime_names[0], "none");
  EXPECT_EQ(s->params.num_regimes, 1);
  EXPECT_EQ(s->params.initial_regime, 0);
  for (int b = 0; b < 2; ++b) {
    EXPECT_DOUBLE_EQ(s->params.params[effect_param_index(0, b, parity::kWaferGrowthAdj)].p0, 0.0);
    EXPECT_DOUBLE_EQ(s->params.params[effect_param_index(0, b, parity::kLearningMult)].p0, 1.0);
    EXPECT_DOUBLE_EQ(s->params.params[effect_param_index(0, b, parity::kHbmMult)].p0, 1.0);
  }
  EXPECT_EQ(s->params.num_shocks, 0);
  EXPECT_EQ(s->params.num_events, 0);
  ASSERT_EQ(s->param_names.size(), static_cast<size_t>(parity::kMaxParams));
  for (const auto& n : s->param_names) EXPECT_EQ(n, "");
  EXPECT_TRUE(s->warnings.empty());

  EXPECT_NE(s->resolved_toml.find("[domestic]"), std::string::npos);
  EXPECT_EQ(s->sha256.size(), 64u);
  EXPECT_EQ(s->sha256, sha256_of(s->resolved_toml));
  EXPECT_EQ(load_scenario(data("minimal.toml"))->sha256, s->sha256);  // deterministic
}

TEST_F(ConfigTest, PeriodsRoundAndSubBinsFollowDt) {
  const auto s = load_scenario(scenario("[run]\nstart_year = 2026\nhorizon_year = 2060\ndt = 0.1\n"));
  EXPECT_EQ(s->params.periods, 340);
  EXPECT_EQ(s->params.sub_bins, 10);
  const auto y = load_scenario(scenario("[run]\ndt = 1\ntrajectories = 10\nseed = 0\nthreshold = 0.5\nsustain = 4\n"));
  EXPECT_EQ(y->params.periods, 10);
  EXPECT_EQ(y->params.sub_bins, 100);
  EXPECT_EQ(y->run.trajectories, 10u);
  EXPECT_EQ(y->params.seed, 0u);
  EXPECT_DOUBLE_EQ(y->params.threshold, 0.5);
  EXPECT_EQ(y->params.sustain, 4);
}

TEST_F(ConfigTest, ResolvedTomlLoadsBackToTheSameScenario) {
  const auto s = load_scenario(data("extends/sub/child.toml"));
  const std::string copy = write("resolved.toml", s->resolved_toml);
  const auto t = load_scenario(copy);
  EXPECT_EQ(t->resolved_toml, s->resolved_toml);
  EXPECT_EQ(t->sha256, s->sha256);
  for (int i = 0; i < parity::kMaxParams; ++i) {
    EXPECT_EQ(t->params.params[i].kind, s->params.params[i].kind);
    EXPECT_EQ(t->params.params[i].p0, s->params.params[i].p0);
  }
}

// ---------------------------------------------------------------- distributions

TEST_F(ConfigTest, EveryDistributionKindWithTruncation) {
  const auto s = load_scenario(scenario(R"(
[domestic]
wafers0 = { dist = "lognormal", median = 20000, gsd = 1.4, max = 40000 }
wafer_growth = { dist = "normal", mean = 0.2, sd = 0.08, min = -0.2 }
yield0 = { dist = "uniform", low = 0.3, high = 0.9, min = 0.4 }
yield_max = { dist = "triangular", low = 0.5, mode = 0.7, high = 0.95, max = 0.9 }
perf0 = { dist = "beta", a = 2, b = 3, low = 0.5, high = 2.0, min = 1.0 }
perf_growth = { dist = "normal", mean = 0.3, sd = 0.1 }
)"));
  using namespace boost::math;
  const Dist& w = param(*s, 0, parity::kWafers0);
  EXPECT_EQ(w.kind, DistKind::lognormal);
  EXPECT_DOUBLE_EQ(w.p0, std::log(20000.0));
  EXPECT_DOUBLE_EQ(w.p1, std::log(1.4));
  EXPECT_DOUBLE_EQ(w.u_lo, 0.0);
  EXPECT_DOUBLE_EQ(w.u_hi, cdf(lognormal_distribution<>(std::log(20000.0), std::log(1.4)), 40000.0));
  EXPECT_EQ(w.lo, -INFINITY);
  EXPECT_DOUBLE_EQ(w.hi, 40000);

  const Dist& g = param(*s, 0, parity::kWaferGrowth);
  EXPECT_EQ(g.kind, DistKind::normal);
  EXPECT_DOUBLE_EQ(g.p0, 0.2);
  EXPECT_DOUBLE_EQ(g.p1, 0.08);
  EXPECT_DOUBLE_EQ(g.u_lo, cdf(normal_distribution<>(0.2, 0.08), -0.2));
  EXPECT_DOUBLE_EQ(g.u_hi, 1.0);
  EXPECT_DOUBLE_EQ(g.lo, -0.2);
  EXPECT_EQ(g.hi, INFINITY);

  const Dist& y = param(*s, 0, parity::kYield0);
  EXPECT_EQ(y.kind, DistKind::uniform);
  EXPECT_DOUBLE_EQ(y.p0, 0.3);
  EXPECT_DOUBLE_EQ(y.p1, 0.9);
  EXPECT_NEAR(y.u_lo, 1.0 / 6.0, 1e-15);
  EXPECT_DOUBLE_EQ(y.u_hi, 1.0);

  const Dist& m = param(*s, 0, parity::kYieldMax);
  EXPECT_EQ(m.kind, DistKind::triangular);
  EXPECT_DOUBLE_EQ(m.p0, 0.5);
  EXPECT_DOUBLE_EQ(m.p1, 0.7);
  EXPECT_DOUBLE_EQ(m.p2, 0.95);
  EXPECT_DOUBLE_EQ(m.u_lo, 0.0);
  EXPECT_DOUBLE_EQ(m.u_hi, cdf(triangular_distribution<>(0.5, 0.7, 0.95), 0.9));
  EXPECT_DOUBLE_EQ(m.hi, 0.9);

  const Dist& p = param(*s, 0, parity::kPerf0);
  EXPECT_EQ(p.kind, DistKind::beta);
  EXPECT_DOUBLE_EQ(p.p0, 0.5);
  EXPECT_DOUBLE_EQ(p.p1, 2.0);
  EXPECT_DOUBLE_EQ(p.u_lo, cdf(beta_distribution<>(2, 3), (1.0 - 0.5) / 1.5));
  EXPECT_DOUBLE_EQ(p.u_hi, 1.0);
  EXPECT_DOUBLE_EQ(p.lo, 1.0);

  const Dist& pg = param(*s, 0, parity::kPerfGrowth);
  EXPECT_EQ(pg.u_lo, 0.0);
  EXPECT_EQ(pg.u_hi, 1.0);
  EXPECT_EQ(pg.lo, -INFINITY);
  EXPECT_EQ(pg.hi, INFINITY);

  EXPECT_EQ(s->param_names[bloc_param_index(0, parity::kWafers0)], "domestic.wafers0");
  EXPECT_EQ(s->param_names[bloc_param_index(0, parity::kWaferGrowth)], "domestic.wafer_growth");
  EXPECT_EQ(s->param_names[bloc_param_index(0, parity::kPerf0)], "domestic.perf0");
  EXPECT_EQ(s->param_names[bloc_param_index(0, parity::kWaferVol)], "");  // fixed
  EXPECT_EQ(s->param_names[bloc_param_index(1, parity::kWafers0)], "");
}

TEST_F(ConfigTest, BetaTablesHaveExactEndpointsAndAreShared) {
  const auto s = load_scenario(scenario(R"(
[domestic]
yield0 = { dist = "beta", a = 4, b = 6 }
yield_max = { dist = "beta", a = 4, b = 6, low = 0.5, high = 1 }
[foreign]
yield0 = { dist = "beta", a = 0.5, b = 0.5 }
)"));
  const Dist& a = param(*s, 0, parity::kYield0);
  const Dist& b = param(*s, 0, parity::kYieldMax);
  const Dist& c = param(*s, 1, parity::kYield0);
  EXPECT_EQ(a.table, b.table);  // same (a, b): one table
  EXPECT_NE(a.table, c.table);
  ASSERT_GE(a.table, 0);
  ASSERT_GE(c.table, 0);
  EXPECT_DOUBLE_EQ(a.p0, 0.0);
  EXPECT_DOUBLE_EQ(a.p1, 1.0);
  EXPECT_DOUBLE_EQ(b.p0, 0.5);
  for (const Dist* d : {&a, &c}) {
    const double* q = s->params.tables.q[d->table];
    EXPECT_EQ(q[0], 0.0);
    EXPECT_EQ(q[kTableSize - 1], 1.0);
  }
  const double* q = s->params.tables.q[a.table];
  for (int i : {1, 1024, 2048, 3000, kTableSize - 2}) {
    EXPECT_DOUBLE_EQ(q[i], boost::math::ibeta_inv(4.0, 6.0, static_cast<double>(i) / (kTableSize - 1)));
  }
  const double* r = s->params.tables.q[c.table];
  EXPECT_DOUBLE_EQ(r[2048], 0.5);  // beta(0.5, 0.5) is symmetric
}

TEST_F(ConfigTest, TooManyBetaShapesNamesTheKey) {
  std::string body = "[domestic]\n";
  const char* keys[] = {"yield0",     "yield_max",        "wafer_growth",       "perf_growth",
                        "hbm_growth", "packaging_growth", "hbm_per_chip_growth"};
  int n = 0;
  for (const char* k : keys)
    body += std::string(k) + " = { dist = \"beta\", a = " + std::to_string(++n) + ", b = 2 }\n";
  body += "[foreign]\n";
  const char* more[] = {"yield0", "yield_max", "wafer_growth", "perf_growth", "hbm_growth", "packaging_growth"};
  for (const char* k : more)
    body += std::string(k) + " = { dist = \"beta\", a = " + std::to_string(++n) + ", b = 2 }\n";
  expect_error(body, {"foreign.packaging_growth", "beta"});  // the 13th distinct shape
}

// ---------------------------------------------------------------- extends

TEST_F(ConfigTest, ExtendsMergesKeyByKeyAndReplacesDistributionsAndArrays) {
  const auto base = load_scenario(data("extends/base.toml"));
  EXPECT_EQ(param(*base, 0, parity::kWafers0).kind, DistKind::normal);
  EXPECT_EQ(base->params.num_shocks, 2);
  EXPECT_EQ(base->run.seed, 7u);

  const auto s = load_scenario(data("extends/sub/child.toml"));  // extends "../base.toml"
  // [run]: seed overridden, trajectories inherited.
  EXPECT_EQ(s->run.seed, 9u);
  EXPECT_EQ(s->run.trajectories, 5000u);
  // A distribution table replaces the parent's whole: no min left over from the normal.
  const Dist& w = param(*s, 0, parity::kWafers0);
  EXPECT_EQ(w.kind, DistKind::lognormal);
  EXPECT_DOUBLE_EQ(w.p0, std::log(25000.0));
  EXPECT_EQ(w.u_lo, 0.0);
  EXPECT_EQ(w.lo, -INFINITY);
  // Inherited from base and from minimal (two levels up).
  EXPECT_EQ(param(*s, 0, parity::kYield0).kind, DistKind::beta);
  EXPECT_DOUBLE_EQ(param(*s, 0, parity::kDiesPerWafer).p0, 60);
  // Key by key inside [foreign].
  EXPECT_DOUBLE_EQ(param(*s, 1, parity::kPerf0).p0, 2.0);
  EXPECT_DOUBLE_EQ(param(*s, 1, parity::kWafers0).p0, 100000);
  // [[shocks]] replaced whole.
  ASSERT_EQ(s->params.num_shocks, 1);
  EXPECT_EQ(s->params.shocks[0].bloc, parity::kForeign);
  EXPECT_EQ(s->params.shocks[0].loss.kind, DistKind::beta);
  EXPECT_DOUBLE_EQ(s->params.params[shock_rate_index(0)].p0, 0.02);
  EXPECT_EQ(s->resolved_toml.find("strait"), std::string::npos);
  EXPECT_EQ(s->resolved_toml.find("extends"), std::string::npos);
  EXPECT_NE(s->resolved_toml.find("quake"), std::string::npos);
  EXPECT_NE(s->sha256, base->sha256);
}

TEST_F(ConfigTest, ExtendsCycleIsAnError) {
  const std::string msg = error_of(data("extends/cycle_a.toml"));
  EXPECT_NE(msg.find("cycle"), std::string::npos) << msg;
  EXPECT_NE(msg.find("extends"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cycle_b.toml"), std::string::npos) << msg;
  const std::string self = write("self.toml", "extends = \"self.toml\"\n");
  const std::string m2 = error_of(self);
  EXPECT_NE(m2.find("cycle"), std::string::npos) << m2;
  EXPECT_NE(m2.find(self), std::string::npos) << m2;
}

TEST_F(ConfigTest, ExtendsMissingParentNamesIt) {
  const std::string child = write("child.toml", "extends = \"nowhere.toml\"\n");
  const std::string msg = error_of(child);
  EXPECT_NE(msg.find((dir_ / "nowhere.toml").string() + ": cannot open"), std::string::npos) << msg;
}

TEST_F(ConfigTest, InheritedBadValueNamesTheParentFile) {
  const std::string parent =
      write("parent.toml", "extends = \"" + data("minimal.toml") + "\"\n[domestic]\nhbm0 = -5\n");
  const std::string child = write("child.toml", "extends = \"parent.toml\"\n[foreign]\nperf0 = 2\n");
  const std::string msg = error_of(child);
  EXPECT_NE(msg.find(parent + ": domestic.hbm0: -5"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- policy

TEST_F(ConfigTest, PolicyRegimesInNameOrderWithEffects) {
  const auto s = load_scenario(scenario(R"(
[policy]
initial = "status_quo"
[policy.regimes.status_quo]
[policy.regimes.tightened]
domestic = { wafer_growth_adj = -0.10, learning_mult = 0.7, hbm_mult = { dist = "uniform", low = 0.3, high = 0.8 } }
[policy.regimes.loosened]
foreign = { hbm_mult = 0.9 }
)"));
  ASSERT_EQ(s->regime_names.size(), 3u);
  EXPECT_EQ(s->regime_names[0], "loosened");
  EXPECT_EQ(s->regime_names[1], "status_quo");
  EXPECT_EQ(s->regime_names[2], "tightened");
  EXPECT_EQ(s->params.num_regimes, 3);
  EXPECT_EQ(s->params.initial_regime, 1);
  const auto& P = s->params.params;
  EXPECT_DOUBLE_EQ(P[effect_param_index(2, 0, parity::kWaferGrowthAdj)].p0, -0.10);
  EXPECT_DOUBLE_EQ(P[effect_param_index(2, 0, parity::kLearningMult)].p0, 0.7);
  EXPECT_EQ(P[effect_param_index(2, 0, parity::kHbmMult)].kind, DistKind::uniform);
  EXPECT_EQ(s->param_names[effect_param_index(2, 0, parity::kHbmMult)], "policy.regimes.tightened.domestic.hbm_mult");
  EXPECT_DOUBLE_EQ(P[effect_param_index(0, 1, parity::kHbmMult)].p0, 0.9);
  // Defaults in every other slot.
  for (int r = 0; r < 3; ++r) {
    for (int b = 0; b < 2; ++b) {
      if (r == 2 && b == 0) continue;
      EXPECT_EQ(P[effect_param_index(r, b, parity::kWaferGrowthAdj)].kind, DistKind::fixed);
      EXPECT_DOUBLE_EQ(P[effect_param_index(r, b, parity::kWaferGrowthAdj)].p0, 0.0);
      EXPECT_DOUBLE_EQ(P[effect_param_index(r, b, parity::kLearningMult)].p0, 1.0);
      if (!(r == 0 && b == 1)) {
        EXPECT_DOUBLE_EQ(P[effect_param_index(r, b, parity::kHbmMult)].p0, 1.0);
      }
    }
  }
}

TEST_F(ConfigTest, TransitionsConvertAnnualProbabilitiesPerPeriod) {
  const auto s = load_scenario(scenario(R"(
[policy]
initial = "status_quo"
[policy.regimes.status_quo]
[policy.regimes.tightened]
[policy.regimes.loosened]
[policy.transitions]
status_quo = { tightened = 0.15, loosened = 0.05 }
tightened  = { status_quo = 0.10 }
)"));
  const double dt = 0.25;
  // loosened = 0, status_quo = 1, tightened = 2
  EXPECT_DOUBLE_EQ(s->params.q[1][2], 1 - std::pow(1 - 0.15, dt));
  EXPECT_DOUBLE_EQ(s->params.q[1][0], 1 - std::pow(1 - 0.05, dt));
  EXPECT_DOUBLE_EQ(s->params.q[2][1], 1 - std::pow(1 - 0.10, dt));
  EXPECT_EQ(s->params.q[0][1], 0.0);
  EXPECT_EQ(s->params.q[0][2], 0.0);
  EXPECT_EQ(s->params.q[2][0], 0.0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s->params.q[i][i], 0.0);
}

TEST_F(ConfigTest, TransitionRowAboveOneIsScaledToOne) {
  const auto s = load_scenario(scenario(R"(
[run]
dt = 1.0
[policy]
initial = "a"
[policy.regimes.a]
[policy.regimes.b]
[policy.regimes.c]
[policy.transitions]
a = { b = 0.8, c = 0.7 }
b = { a = 0.2, c = 0.3 }
)"));
  EXPECT_DOUBLE_EQ(s->params.q[0][1], 0.8 / 1.5);
  EXPECT_DOUBLE_EQ(s->params.q[0][2], 0.7 / 1.5);
  EXPECT_DOUBLE_EQ(s->params.q[0][1] + s->params.q[0][2], 1.0);
  EXPECT_DOUBLE_EQ(s->params.q[1][0], 0.2);  // sum 0.5: unchanged
  EXPECT_DOUBLE_EQ(s->params.q[1][2], 0.3);
}

TEST_F(ConfigTest, EventsInsideTheHorizonAreStoredOthersWarn) {
  const std::string path = scenario(R"(
[policy]
initial = "status_quo"
[policy.regimes.status_quo]
[policy.regimes.tightened]
[[policy.events]]
at = 2027.0
regime = "tightened"
probability = 0.3
[[policy.events]]
at = 2070
regime = "tightened"
probability = 1
[[policy.events]]
at = 2035.9
regime = "status_quo"
probability = 0.5
[[policy.events]]
at = 2025.5
regime = "status_quo"
probability = 0.5
)");
  const auto s = load_scenario(path);
  ASSERT_EQ(s->params.num_events, 2);
  EXPECT_EQ(s->params.events[0].period, 4);
  EXPECT_EQ(s->params.events[0].regime, 1);
  EXPECT_DOUBLE_EQ(s->params.events[0].probability, 0.3);
  EXPECT_EQ(s->params.events[1].period, 39);
  EXPECT_EQ(s->params.events[1].regime, 0);
  ASSERT_EQ(s->warnings.size(), 2u);
  EXPECT_NE(s->warnings[0].find(path), std::string::npos) << s->warnings[0];
  EXPECT_NE(s->warnings[0].find("policy.events[1]"), std::string::npos) << s->warnings[0];
  EXPECT_NE(s->warnings[0].find("2070"), std::string::npos) << s->warnings[0];
  EXPECT_NE(s->warnings[1].find("policy.events[3]"), std::string::npos) << s->warnings[1];
  EXPECT_NE(s->warnings[1].find("2025.5"), std::string::npos) << s->warnings[1];
}

// ---------------------------------------------------------------- shocks

TEST_F(ConfigTest, ShocksRatesAndLosses) {
  const auto s = load_scenario(scenario(R"(
[[shocks]]
name = "taiwan_strait_disruption"
bloc = "foreign"
rate = { dist = "lognormal", median = 0.01, gsd = 2 }
loss = { dist = "uniform", low = 0.3, high = 0.9 }
[[shocks]]
name = "export_ban"
bloc = "domestic"
rate = 0.05
loss = { dist = "beta", a = 2, b = 5 }
)"));
  ASSERT_EQ(s->params.num_shocks, 2);
  EXPECT_EQ(s->params.shocks[0].bloc, parity::kForeign);
  EXPECT_EQ(s->params.shocks[1].bloc, parity::kDomestic);
  EXPECT_EQ(s->params.params[shock_rate_index(0)].kind, DistKind::lognormal);
  EXPECT_EQ(s->param_names[shock_rate_index(0)], "shocks.taiwan_strait_disruption.rate");
  EXPECT_DOUBLE_EQ(s->params.params[shock_rate_index(1)].p0, 0.05);
  EXPECT_EQ(s->param_names[shock_rate_index(1)], "");
  EXPECT_EQ(s->params.shocks[0].loss.kind, DistKind::uniform);
  EXPECT_EQ(s->params.shocks[1].loss.kind, DistKind::beta);
  ASSERT_GE(s->params.shocks[1].loss.table, 0);
  EXPECT_EQ(s->params.tables.q[s->params.shocks[1].loss.table][kTableSize - 1], 1.0);
}

// ---------------------------------------------------------------- overrides

TEST_F(ConfigTest, OverridesChangeResolvedTomlAndDigest) {
  const auto plain = load_scenario(data("extends/base.toml"));
  Overrides o;
  o.trajectories = 123;
  o.seed = 456;
  const auto s = load_scenario(data("extends/base.toml"), o);
  EXPECT_EQ(s->run.trajectories, 123u);
  EXPECT_EQ(s->run.seed, 456u);
  EXPECT_EQ(s->params.seed, 456u);
  EXPECT_NE(s->resolved_toml, plain->resolved_toml);
  EXPECT_NE(s->resolved_toml.find("trajectories = 123"), std::string::npos) << s->resolved_toml;
  EXPECT_NE(s->resolved_toml.find("seed = 456"), std::string::npos);
  EXPECT_NE(s->sha256, plain->sha256);
  EXPECT_EQ(s->sha256, sha256_of(s->resolved_toml));
  // Into a config without [run] trajectories/seed, and the largest accepted seed.
  Overrides big;
  big.seed = 9223372036854775807ull;
  const auto m = load_scenario(data("minimal.toml"), big);
  EXPECT_EQ(m->params.seed, 9223372036854775807ull);
  EXPECT_NE(m->resolved_toml.find("seed = 9223372036854775807"), std::string::npos);
  Overrides too_big;
  too_big.seed = 9223372036854775808ull;
  EXPECT_NE(error_of(data("minimal.toml"), too_big).find("run.seed"), std::string::npos);
  Overrides zero;
  zero.trajectories = 0;
  EXPECT_NE(error_of(data("minimal.toml"), zero).find("run.trajectories"), std::string::npos);
}

TEST_F(ConfigTest, OverridesApplyBeforeValidation) {
  const std::string path = scenario("[run]\ntrajectories = 0\n");
  EXPECT_NE(error_of(path).find("run.trajectories"), std::string::npos);
  Overrides o;
  o.trajectories = 10;
  const auto s = load_scenario(path, o);
  EXPECT_EQ(s->run.trajectories, 10u);
  EXPECT_EQ(s->resolved_toml.back(), '\n');
}

// ---------------------------------------------------------------- errors

TEST_F(ConfigTest, UnknownKeysAreErrorsListingValidOnes) {
  expect_error("colour = 1\n", {"colour", "unknown key", "run"});
  expect_error("[run]\ntrajectorys = 10\n", {"run.trajectorys", "unknown key", "trajectories"});
  expect_error("[domestic]\nwafer0 = 10\n", {"domestic.wafer0", "unknown key", "wafers0"});
  expect_error("[domestic]\nwafers0 = { dist = \"normal\", mean = 1, stdev = 2 }\n",
               {"domestic.wafers0.stdev", "unknown key", "sd"});
  expect_error("[policy]\ninitial = \"a\"\n[policy.regimes.a]\ndomestic = { hbm = 1 }\n",
               {"policy.regimes.a.domestic.hbm", "hbm_mult"});
  expect_error("[policy]\ninitial = \"a\"\n[policy.regimes.a]\ncolour = 1\n", {"policy.regimes.a.colour"});
  expect_error("[policy]\ninitial = \"a\"\nmood = 1\n[policy.regimes.a]\n", {"policy.mood", "transitions"});
  expect_error(
      "[policy]\ninitial = \"a\"\n[policy.regimes.a]\n[[policy.events]]\nat = 2027\nregime = \"a\"\nwhen = 1\n",
      {"policy.events[0].when", "probability"});
  expect_error("[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\nrate = 0.1\nloss = 0.5\nsize = 2\n",
               {"shocks[0].size", "loss"});
}

TEST_F(ConfigTest, MissingParameterNamesBlocAndKey) {
  std::string text = read_text(data("minimal.toml"));
  const std::string line = "hbm0 = 1.0e7\n";
  text.erase(text.find(line), line.size());
  const std::string path = write("missing.toml", text);
  const std::string msg = error_of(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("foreign.hbm0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  const std::string nobloc = write("nobloc.toml", "[run]\ndt = 0.5\n");
  EXPECT_NE(error_of(nobloc).find("domestic"), std::string::npos);
}

TEST_F(ConfigTest, ImpossibleDistributionParameters) {
  expect_error("[domestic]\nwafer_growth = { dist = \"normal\", mean = 0.2, sd = 0 }\n",
               {"domestic.wafer_growth.sd", "> 0"});
  expect_error("[domestic]\nwafer_growth = { dist = \"normal\", mean = 0.2, sd = -1 }\n",
               {"domestic.wafer_growth.sd", "-1"});
  expect_error("[domestic]\nwafers0 = { dist = \"lognormal\", median = 2e4, gsd = 1 }\n",
               {"domestic.wafers0.gsd", "> 1"});
  expect_error("[domestic]\nwafers0 = { dist = \"lognormal\", median = 0, gsd = 2 }\n", {"domestic.wafers0.median"});
  expect_error("[domestic]\nwafer_growth = { dist = \"uniform\", low = 0.5, high = 0.5 }\n",
               {"domestic.wafer_growth.low", "low >= high"});
  expect_error("[domestic]\nwafer_growth = { dist = \"triangular\", low = 0, mode = 2, high = 1 }\n",
               {"domestic.wafer_growth.mode", "outside"});
  expect_error("[domestic]\nwafer_growth = { dist = \"triangular\", low = 1, mode = 1, high = 0 }\n",
               {"domestic.wafer_growth.low", "low >= high"});
  expect_error("[domestic]\nyield0 = { dist = \"beta\", a = 0, b = 2 }\n", {"domestic.yield0.a"});
  expect_error("[domestic]\nyield0 = { dist = \"beta\", a = 2, b = -1 }\n", {"domestic.yield0.b"});
  expect_error("[domestic]\nyield0 = { dist = \"beta\", a = 2, b = 2, low = 1, high = 0 }\n", {"domestic.yield0.low"});
  expect_error("[domestic]\nwafer_growth = { dist = \"normal\", mean = 0, sd = 1, min = 1, max = 0 }\n",
               {"domestic.wafer_growth.min", "min >= max"});
  expect_error("[domestic]\nwafer_growth = { dist = \"gamma\", shape = 2 }\n",
               {"domestic.wafer_growth.dist", "gamma", "lognormal"});
  expect_error("[domestic]\nwafer_growth = { dist = \"normal\", mean = 0.2 }\n", {"domestic.wafer_growth", "sd"});
  expect_error("[domestic]\nwafer_growth = { mean = 0.2, sd = 0.1 }\n", {"domestic.wafer_growth", "dist"});
  expect_error("[domestic]\nwafer_growth = { dist = \"normal\", mean = 0, sd = 1, min = 40, max = 50 }\n",
               {"domestic.wafer_growth", "no probability mass"});
  expect_error("[domestic]\nwafer_growth = { dist = \"uniform\", low = 0, high = 1, min = 2 }\n",
               {"domestic.wafer_growth", "no probability mass"});
  expect_error("[domestic]\nwafer_growth = { dist = \"normal\", mean = \"0.2\", sd = 1 }\n",
               {"domestic.wafer_growth.mean", "\"0.2\"", "number"});
}

TEST_F(ConfigTest, SupportOutsideTheParameterDomain) {
  expect_error("[domestic]\nwafers0 = { dist = \"normal\", mean = 20000, sd = 5000 }\n",
               {"domestic.wafers0", "can be <= 0", "wafers0 must be > 0", "lognormal"});
  expect_error("[domestic]\nwafers0 = { dist = \"normal\", mean = 20000, sd = 5000, min = 0 }\n",
               {"domestic.wafers0", "can be <= 0"});
  expect_error("[domestic]\nyield0 = { dist = \"uniform\", low = 0.2, high = 1.3 }\n",
               {"domestic.yield0", "can exceed 1", "[0, 1]"});
  expect_error("[foreign]\nyield_max = { dist = \"normal\", mean = 0.8, sd = 0.1, min = 0 }\n",
               {"foreign.yield_max", "can exceed 1"});
  expect_error("[domestic]\nwafer_vol = { dist = \"normal\", mean = 0.1, sd = 0.05 }\n",
               {"domestic.wafer_vol", "can be < 0"});
  expect_error("[domestic]\nhbm0 = { dist = \"uniform\", low = 0, high = 10 }\n", {"domestic.hbm0", "can be <= 0"});
  expect_error("[domestic]\nwafers0 = -3\n", {"domestic.wafers0", "-3", "> 0"});
  expect_error("[domestic]\nyield0 = 1.2\n", {"domestic.yield0", "1.2", "[0, 1]"});
  expect_error("[domestic]\nlearning_rate = -0.1\n", {"domestic.learning_rate", ">= 0"});
  expect_error("[domestic]\nwafers0 = inf\n", {"domestic.wafers0", "finite"});
  expect_error("[domestic]\nwafers0 = \"many\"\n", {"domestic.wafers0", "\"many\"", "number"});
  expect_error("[policy]\ninitial = \"a\"\n[policy.regimes.a]\nforeign = { learning_mult = -1 }\n",
               {"policy.regimes.a.foreign.learning_mult", ">= 0"});
  expect_error(
      "[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\nrate = 0.1\nloss = { dist = \"normal\", mean = 0.5, sd = 0.1 }\n",
      {"shocks.x.loss", "[0, 1]"});
  expect_error("[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\nrate = -0.1\nloss = 0.5\n", {"shocks.x.rate", ">= 0"});

  // Truncated into the domain: fine.
  const auto s = load_scenario(scenario(R"(
[domestic]
wafers0 = { dist = "normal", mean = 20000, sd = 5000, min = 1000 }
yield0 = { dist = "normal", mean = 0.5, sd = 0.2, min = 0, max = 1 }
wafer_vol = { dist = "lognormal", median = 0.1, gsd = 1.5 }
hbm0 = { dist = "lognormal", median = 1e6, gsd = 2, min = 0 }
)"));
  EXPECT_EQ(param(*s, 0, parity::kYield0).kind, DistKind::normal);
  EXPECT_DOUBLE_EQ(param(*s, 0, parity::kYield0).lo, 0.0);
  EXPECT_DOUBLE_EQ(param(*s, 0, parity::kYield0).hi, 1.0);
  EXPECT_EQ(param(*s, 0, parity::kHbm0).u_lo, 0.0);
}

TEST_F(ConfigTest, PolicyErrors) {
  const std::string regimes = "[policy.regimes.status_quo]\n[policy.regimes.tightened]\n";
  expect_error("[policy]\ninitial = \"nope\"\n" + regimes, {"policy.initial", "nope", "unknown regime", "status_quo"});
  expect_error(
      "[policy]\ninitial = \"status_quo\"\n" + regimes + "[policy.transitions]\nstatus_quo = { loosened = 0.1 }\n",
      {"policy.transitions.status_quo.loosened", "unknown regime"});
  expect_error(
      "[policy]\ninitial = \"status_quo\"\n" + regimes + "[policy.transitions]\nfrozen = { tightened = 0.1 }\n",
      {"policy.transitions.frozen", "unknown regime"});
  expect_error(
      "[policy]\ninitial = \"status_quo\"\n" + regimes + "[policy.transitions]\nstatus_quo = { tightened = 1.5 }\n",
      {"policy.transitions.status_quo.tightened", "1.5", "[0, 1]"});
  expect_error(
      "[policy]\ninitial = \"status_quo\"\n" + regimes + "[policy.transitions]\nstatus_quo = { status_quo = 0.5 }\n",
      {"policy.transitions.status_quo.status_quo", "itself"});
  expect_error("[policy]\ninitial = \"status_quo\"\n" + regimes +
                   "[[policy.events]]\nat = 2027\nregime = \"martial\"\nprobability = 0.5\n",
               {"policy.events[0].regime", "martial", "unknown regime"});
  expect_error("[policy]\ninitial = \"status_quo\"\n" + regimes +
                   "[[policy.events]]\nat = 2027\nregime = \"tightened\"\nprobability = -0.1\n",
               {"policy.events[0].probability", "[0, 1]"});
  expect_error("[policy]\ninitial = \"status_quo\"\n", {"policy.regimes", "missing"});
  std::string many = "[policy]\ninitial = \"r0\"\n";
  for (int i = 0; i <= parity::kMaxRegimes; ++i) many += "[policy.regimes.r" + std::to_string(i) + "]\n";
  expect_error(many, {"policy.regimes", "at most 8"});
}

TEST_F(ConfigTest, ShockErrors) {
  const std::string shock = "[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\nrate = 0.1\nloss = 0.5\n";
  expect_error(shock + shock, {"shocks[1].name", "duplicate"});
  expect_error("[[shocks]]\nname = \"x\"\nbloc = \"mars\"\nrate = 0.1\nloss = 0.5\n",
               {"shocks.x.bloc", "mars", "foreign"});
  expect_error("[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\nloss = 0.5\n", {"shocks.x.rate", "missing"});
  std::string many;
  for (int i = 0; i <= parity::kMaxShocks; ++i) {
    many += "[[shocks]]\nname = \"s" + std::to_string(i) + "\"\nbloc = \"foreign\"\nrate = 0.1\nloss = 0.5\n";
  }
  expect_error(many, {"shocks", "at most 8"});
}

TEST_F(ConfigTest, RunErrors) {
  expect_error("[run]\ndt = 0.3\n", {"run.dt", "0.3", "whole number"});
  expect_error("[run]\ndt = -0.25\n", {"run.dt", "> 0"});
  expect_error("[run]\nhorizon_year = 2020\n", {"run.horizon_year", "2020", "start_year"});
  expect_error("[run]\nseed = -1\n", {"run.seed", "-1"});
  expect_error("[run]\ntrajectories = 0\n", {"run.trajectories"});
  expect_error("[run]\ntrajectories = 2.5\n", {"run.trajectories", "integer"});
  expect_error("[run]\nsustain = 0\n", {"run.sustain"});
  expect_error("[run]\nthreshold = 0\n", {"run.threshold", "> 0"});
  expect_error("[run]\nstart_year = \"2026\"\n", {"run.start_year", "\"2026\"", "number"});
  expect_error("run = 5\n", {"run", "table"});
  // An integral float is accepted where an integer is expected.
  EXPECT_EQ(load_scenario(scenario("[run]\ntrajectories = 1e6\n"))->run.trajectories, 1000000u);
}

TEST_F(ConfigTest, MalformedTomlNamesFileLineAndColumn) {
  const std::string path = write("bad.toml", "[run]\ndt = 0.25\nseed = = 3\n");
  const std::string msg = error_of(path);
  EXPECT_EQ(msg.rfind(path + ":3:", 0), 0u) << msg;
  // A parse error in a parent names the parent.
  const std::string child = write("child.toml", "extends = \"bad.toml\"\n");
  EXPECT_EQ(error_of(child).rfind(path + ":3:", 0), 0u);
}

TEST_F(ConfigTest, MissingFileCannotOpen) {
  const std::string path = (dir_ / "absent.toml").string();
  EXPECT_EQ(error_of(path).rfind(path + ": cannot open (", 0), 0u) << error_of(path);
}

TEST_F(ConfigTest, MessageFormatIsFileKeyValueProblemValid) {
  const std::string path = scenario("[domestic]\nwafers0 = { dist = \"normal\", mean = 20000, sd = 5000 }\n");
  const std::string msg = error_of(path);
  const std::string head = path + ": domestic.wafers0: { dist = \"normal\", mean = 20000, sd = 5000 } \u2014 ";
  EXPECT_EQ(msg.rfind(head, 0), 0u) << msg;
  EXPECT_NE(msg.find("; "), std::string::npos) << msg;
}

// ---------------------------------------------------------------- model v2 (MODEL-v2.md sections 1-5)

using parity::bloc_param_v2_index;
using parity::effect_v2_index;

std::string v2_scenario() { return std::string(CHIPCAST_SOURCE_DIR) + "/tests/models/data/v2_all_keys.toml"; }

TEST_F(ConfigTest, VersionOneConfigLeavesEveryV2FlagOffAndDefaultsInPlace) {
  const auto s = load_scenario(data("minimal.toml"));
  const parity::ModelParams& p = s->params;
  EXPECT_EQ(p.v2, 0);
  EXPECT_EQ(p.perf_lag_bloc, -1);
  for (int b = 0; b < 2; ++b) {
    EXPECT_EQ(p.v2_growth[b], 0);
    EXPECT_EQ(p.v2_stock[b], 0);
    EXPECT_EQ(p.v2_long[b], 0);
    for (int k = 0; k < parity::kNumBlocParamsV2; ++k)
      EXPECT_EQ(p.params[bloc_param_v2_index(b, k)].kind, DistKind::fixed);
    EXPECT_DOUBLE_EQ(p.params[bloc_param_v2_index(b, parity::kDieStock0)].p0, 0.0);
    EXPECT_DOUBLE_EQ(p.params[effect_v2_index(0, b, parity::kHbmGrowthAdj)].p0, 0.0);
    EXPECT_DOUBLE_EQ(p.params[effect_v2_index(0, b, parity::kPackagingMult)].p0, 1.0);
    EXPECT_DOUBLE_EQ(p.params[effect_v2_index(0, b, parity::kWaferCapMult)].p0, 1.0);
  }
  // A shock that names the v1 target explicitly stays on the v1 path.
  const auto t = load_scenario(
      scenario("[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\ntarget = \"wafers\"\nrate = 0.1\nloss = 0.5\n"));
  EXPECT_EQ(t->params.v2, 0);
  EXPECT_EQ(t->params.shocks[0].target, parity::kTargetWafers);
}

TEST_F(ConfigTest, EveryV2KeyLandsInItsSlotWithItsName) {
  const auto s = load_scenario(v2_scenario());
  const parity::ModelParams& p = s->params;
  EXPECT_EQ(p.v2, 1);
  EXPECT_EQ(p.perf_lag_bloc, parity::kDomestic);
  EXPECT_EQ(p.v2_growth[0], 1);
  EXPECT_EQ(p.v2_growth[1], 1);
  EXPECT_EQ(p.v2_stock[0], 1);
  EXPECT_EQ(p.v2_stock[1], 1);
  // domestic: wafer, hbm, packaging and hbm-per-chip long rates; foreign: perf only.
  EXPECT_EQ(p.v2_long[0], 0b10111);
  EXPECT_EQ(p.v2_long[1], 0b01000);
  const auto& names = s->param_names;
  EXPECT_EQ(names[bloc_param_v2_index(0, parity::kWaferGrowthLong)], "domestic.wafer_growth_long");
  EXPECT_EQ(names[bloc_param_v2_index(0, parity::kGrowthHalflife)], "domestic.growth_halflife");
  EXPECT_EQ(names[bloc_param_v2_index(0, parity::kDieStock0)], "domestic.die_stock0");
  EXPECT_EQ(names[bloc_param_v2_index(0, parity::kHbmStock0)], "domestic.hbm_stock0");
  EXPECT_EQ(names[bloc_param_v2_index(0, parity::kPerfLag)], "domestic.perf_lag");
  EXPECT_EQ(names[bloc_param_v2_index(0, parity::kPerfLagDrift)], "domestic.perf_lag_drift");
  EXPECT_EQ(names[bloc_param_v2_index(1, parity::kPerfGrowthLong)], "foreign.perf_growth_long");
  EXPECT_EQ(names[bloc_param_v2_index(1, parity::kGrowthHalflife)], "");  // a number, not drawn
  EXPECT_DOUBLE_EQ(p.params[bloc_param_v2_index(1, parity::kGrowthHalflife)].p0, 4.0);
  EXPECT_DOUBLE_EQ(p.params[bloc_param_v2_index(0, parity::kHbmGrowthLong)].p0, 0.2);
  EXPECT_DOUBLE_EQ(p.params[bloc_param_v2_index(1, parity::kHbmStock0)].p0, 2.0e6);
  // Regimes in name order: status_quo (defaults), tightened.
  EXPECT_EQ(names[effect_v2_index(1, 0, parity::kHbmGrowthAdj)], "policy.regimes.tightened.domestic.hbm_growth_adj");
  EXPECT_EQ(names[effect_v2_index(1, 0, parity::kPackagingMult)], "policy.regimes.tightened.domestic.packaging_mult");
  EXPECT_EQ(names[effect_v2_index(1, 0, parity::kWaferCapMult)], "policy.regimes.tightened.domestic.wafer_cap_mult");
  EXPECT_DOUBLE_EQ(p.params[effect_v2_index(1, 1, parity::kWaferCapMult)].p0, 1.5);
  EXPECT_DOUBLE_EQ(p.params[effect_v2_index(1, 1, parity::kPackagingGrowthAdj)].p0, 0.1);
  EXPECT_DOUBLE_EQ(p.params[effect_v2_index(0, 0, parity::kPackagingMult)].p0, 1.0);
  EXPECT_DOUBLE_EQ(p.params[effect_v2_index(0, 1, parity::kPerfGrowthAdj)].p0, 0.0);
  ASSERT_EQ(p.num_shocks, 5);
  EXPECT_EQ(p.shocks[0].target, parity::kTargetWafers);
  EXPECT_EQ(p.shocks[1].target, parity::kTargetHbm);
  EXPECT_EQ(p.shocks[2].target, parity::kTargetPackaging);
  EXPECT_EQ(p.shocks[3].target, parity::kTargetWaferCap);
  EXPECT_EQ(p.shocks[4].target, parity::kTargetWafers);
  // No perf0 / perf_growth under the lag: nothing to warn about.
  EXPECT_TRUE(s->warnings.empty());
  // v1's slots have not moved: the v1 draws of a v2 config are v1's.
  EXPECT_EQ(names[bloc_param_index(0, parity::kWafers0)], "domestic.wafers0");
  EXPECT_EQ(bloc_param_v2_index(0, 0), 92);
  EXPECT_EQ(effect_v2_index(0, 0, 0), 112);
  EXPECT_EQ(parity::kMaxParams, 192);
}

TEST_F(ConfigTest, PerfLagWarnsOnceNamingTheIgnoredKeysEvenWhenInherited) {
  // minimal.toml gives domestic perf0 and perf_growth: inherited, then ignored.
  const std::string path = scenario("[domestic]\nperf_lag = 2.0\n[foreign]\ngrowth_halflife = 3\n");
  const auto s = load_scenario(path);
  EXPECT_EQ(s->params.perf_lag_bloc, parity::kDomestic);
  ASSERT_EQ(s->warnings.size(), 1u);
  const std::string& w = s->warnings[0];
  EXPECT_NE(w.find(data("minimal.toml")), std::string::npos) << w;  // where the keys come from
  EXPECT_NE(w.find("domestic.perf0 = 0.5"), std::string::npos) << w;
  EXPECT_NE(w.find("domestic.perf_growth = 0.25"), std::string::npos) << w;
  EXPECT_NE(w.find("ignored"), std::string::npos) << w;
  EXPECT_EQ(w.find("perf_growth_long"), std::string::npos) << w;
  // With perf_growth_long too (it needs the half-life), still one warning naming all three.
  const auto t = load_scenario(
      scenario("[foreign]\nperf_lag = 1\nperf_growth_long = 0.1\ngrowth_halflife = 2\n", "lag_foreign.toml"));
  EXPECT_EQ(t->params.perf_lag_bloc, parity::kForeign);
  ASSERT_EQ(t->warnings.size(), 1u);
  EXPECT_NE(t->warnings[0].find("foreign.perf0 = 1"), std::string::npos) << t->warnings[0];
  EXPECT_NE(t->warnings[0].find("foreign.perf_growth = 0.3"), std::string::npos) << t->warnings[0];
  EXPECT_NE(t->warnings[0].find("foreign.perf_growth_long = 0.1"), std::string::npos) << t->warnings[0];
  // Without perf_lag, perf0 stays required.
  std::string text = read_text(data("minimal.toml"));
  text.erase(text.find("perf0 = 0.5\n"), std::string("perf0 = 0.5\n").size());
  const std::string noperf = write("noperf.toml", text);
  const std::string msg = error_of(noperf);
  EXPECT_NE(msg.find(noperf + ": domestic.perf0: (missing)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unless perf_lag is given"), std::string::npos) << msg;
}

TEST_F(ConfigTest, V2ErrorsNameFileKeyAndValue) {
  // Section 1: a half-life <= 0, or a distribution that allows it; a _long rate without the half-life.
  expect_error("[domestic]\ngrowth_halflife = 0\n", {"domestic.growth_halflife", "0", "> 0"});
  expect_error("[domestic]\ngrowth_halflife = -2\n", {"domestic.growth_halflife", "-2", "> 0"});
  expect_error("[foreign]\ngrowth_halflife = { dist = \"normal\", mean = 3, sd = 1 }\n",
               {"foreign.growth_halflife", "can be <= 0"});
  expect_error("[domestic]\nhbm_growth_long = 0.1\n",
               {"domestic.hbm_growth_long", "0.1", "without the bloc's growth_halflife", "hbm_growth"});
  expect_error("[foreign]\nhbm_per_chip_growth_long = { dist = \"uniform\", low = 0, high = 0.1 }\n",
               {"foreign.hbm_per_chip_growth_long", "growth_halflife"});
  expect_error("[domestic]\ngrowth_halflife = 3\nwafer_growth_long = \"fast\"\n",
               {"domestic.wafer_growth_long", "\"fast\"", "number"});
  // Section 2: negative stocks.
  expect_error("[domestic]\ndie_stock0 = -1\n", {"domestic.die_stock0", "-1", ">= 0"});
  expect_error("[foreign]\nhbm_stock0 = { dist = \"normal\", mean = 1e6, sd = 1e6 }\n",
               {"foreign.hbm_stock0", "can be < 0"});
  // Section 3: multipliers <= 0, unknown effects.
  const std::string regimes = "[policy]\ninitial = \"a\"\n[policy.regimes.a]\n";
  expect_error(regimes + "domestic = { packaging_mult = 0 }\n",
               {"policy.regimes.a.domestic.packaging_mult", "0", "> 0"});
  expect_error(regimes + "foreign = { wafer_cap_mult = -0.5 }\n",
               {"policy.regimes.a.foreign.wafer_cap_mult", "-0.5", "> 0"});
  expect_error(regimes + "foreign = { wafer_cap_mult = { dist = \"uniform\", low = -1, high = 1 } }\n",
               {"policy.regimes.a.foreign.wafer_cap_mult", "can be <= 0"});
  expect_error(regimes + "foreign = { perf_growth_adj = \"x\" }\n",
               {"policy.regimes.a.foreign.perf_growth_adj", "\"x\""});
  expect_error(regimes + "foreign = { hbm_cap_mult = 2 }\n",
               {"policy.regimes.a.foreign.hbm_cap_mult", "unknown key", "wafer_cap_mult"});
  // Section 4: a negative lag, lags for both blocs, drift without lag.
  expect_error("[domestic]\nperf_lag = -1\n", {"domestic.perf_lag", "-1", ">= 0"});
  expect_error("[domestic]\nperf_lag = { dist = \"normal\", mean = 2, sd = 1 }\n", {"domestic.perf_lag", "can be < 0"});
  expect_error("[domestic]\nperf_lag = 2\n[foreign]\nperf_lag = 1\n",
               {"foreign.perf_lag", "1", "both blocs", "domestic.perf_lag = 2"});
  expect_error("[foreign]\nperf_lag_drift = 0.1\n", {"foreign.perf_lag_drift", "0.1", "without perf_lag"});
  // Section 5: an unknown shock target.
  expect_error("[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\ntarget = \"fabs\"\nrate = 0.1\nloss = 0.5\n",
               {"shocks.x.target", "\"fabs\"", "unknown shock target", "wafer_cap"});
  expect_error("[[shocks]]\nname = \"x\"\nbloc = \"foreign\"\ntarget = 2\nrate = 0.1\nloss = 0.5\n",
               {"shocks.x.target", "2", "string"});
  // An unknown bloc key still lists the v2 ones.
  expect_error("[domestic]\ngrowth_half_life = 3\n", {"domestic.growth_half_life", "unknown key", "growth_halflife"});
}

}  // namespace
}  // namespace chipcast
