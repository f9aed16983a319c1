// `sensitivity` pieces on real scenarios: output specs, factors and groups, Saltelli designs through streams,
// and an end-to-end run whose answers are known (a parameter the output ignores has exactly zero indices).
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "host/analysis/crossing_stream.h"
#include "host/analysis/sensitivity.h"
#include "host/config/scenario.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using analysis::OutputSpec;
using testing::kMinimalToml;
using testing::kSourceDir;

class SensitivityTest : public testing::ScenarioRunTest {
 protected:
  // minimal.toml, domestic output HBM-bound: hbm_growth decides the parity
  // year; perf_growth only touches compute, so units ignore it.
  std::string small(const std::string& extra = "") {
    return write("small.toml", "extends = \"" + kMinimalToml + "\"\n[domestic]\n" +
                                   "hbm_growth = { dist = \"normal\", mean = 0.45, sd = 0.1 }\n" +
                                   "perf_growth = { dist = \"uniform\", low = 0.2, high = 0.3 }\n" +
                                   "hbm_vol = { dist = \"uniform\", low = 0.05, high = 0.15 }\n" + extra);
  }
};

TEST_F(SensitivityTest, OutputSpecsParseAndMapCrossingTimes) {
  RunSettings run;  // 2026 .. 2060
  const OutputSpec a = analysis::parse_output_spec("parity_year:compute", run);
  EXPECT_EQ(a.kind, OutputSpec::Kind::parity_year);
  EXPECT_EQ(a.metric, 1);
  const OutputSpec b = analysis::parse_output_spec("p_parity_by:2040:memory", run);
  EXPECT_EQ(b.kind, OutputSpec::Kind::p_parity_by);
  EXPECT_EQ(b.metric, 2);
  EXPECT_EQ(b.year, 2040.0);
  for (const char* bad : {"parity_year", "parity_year:chips", "p_parity_by:2070:units", "p_parity_by:20x0:units",
                          "p_parity_by:2026:units", "median:units"})
    EXPECT_THROW(analysis::parse_output_spec(bad, run), std::invalid_argument) << bad;
  const float t[4] = {-1.0f, 14.0f, 14.25f, 0.25f};  // censored, 2040 exactly, just after, 2026.25
  double out[4];
  analysis::output_values(a, run, t, 4, out);
  EXPECT_EQ(out[0], 2060.0);  // censored trajectories at the horizon
  EXPECT_EQ(out[1], 2040.0);
  EXPECT_EQ(out[3], 2026.25);
  analysis::output_values(b, run, t, 4, out);
  EXPECT_EQ(out[0], 0.0);
  EXPECT_EQ(out[1], 1.0);  // parity in 2040 counts as "by 2040"
  EXPECT_EQ(out[2], 0.0);
  EXPECT_EQ(out[3], 1.0);
}

TEST_F(SensitivityTest, FactorsGroupCorrelatedParametersAndPolicyOnRequest) {
  auto sc = load_scenario(kSourceDir + "/configs/baseline.toml");
  const auto all = analysis::sensitivity_factors(*sc, false, {});
  // Oracle: the connected components of the uncertain parameters under the
  // config's [[correlations]] (each correlated set is resampled together).
  std::vector<int> component(parity::kMaxParams, -1);
  int components = 0;
  for (int i = 0; i < parity::kMaxParams; ++i) {
    if (sc->param_names[i].empty() || component[i] >= 0) continue;
    std::vector<int> todo{i};
    component[i] = components;
    while (!todo.empty()) {
      const int j = todo.back();
      todo.pop_back();
      for (const CorrelationPair& c : sc->correlations)
        for (int k : {c.a == j ? c.b : -1, c.b == j ? c.a : -1})
          if (k >= 0 && component[k] < 0) {
            component[k] = components;
            todo.push_back(k);
          }
    }
    ++components;
  }
  ASSERT_FALSE(sc->correlations.empty());  // the baseline plans its supply chain together
  EXPECT_EQ(static_cast<int>(all.size()), components);
  for (const auto& f : all)
    for (int i : f.members) EXPECT_EQ(component[i], component[f.members[0]]) << f.name;
  const auto grouped = analysis::sensitivity_factors(*sc, true, {});
  const auto policy = std::find_if(grouped.begin(), grouped.end(),
                                   [](const analysis::Factor& f) { return f.name == "policy_and_shocks"; });
  ASSERT_NE(policy, grouped.end());
  EXPECT_EQ(grouped.size() + policy->members.size() - 1, all.size());
  // Regime effects and shock rates (v1's and v2's), never a v2 bloc parameter.
  for (int i : policy->members) {
    const bool v1_policy = i >= parity::kNumBlocs * parity::kNumBlocParams && i < parity::kNumParamsV1;
    EXPECT_TRUE(v1_policy || i >= parity::effect_v2_index(0, 0, 0)) << sc->param_names[i];
  }
  // Selection by parameter or group name, in table order.
  const auto some = analysis::sensitivity_factors(*sc, true, {"policy_and_shocks", "foreign.wafers0", "domestic.hbm0"});
  ASSERT_EQ(some.size(), 3u);
  EXPECT_EQ(some[0].name, "domestic.hbm0");
  EXPECT_EQ(some[1].name, "foreign.wafers0");
  EXPECT_THROW(analysis::sensitivity_factors(*sc, false, {"policy_and_shocks"}), std::invalid_argument);
  EXPECT_THROW(analysis::sensitivity_factors(*sc, false, {"domestic.wafer_vol"}), std::invalid_argument);  // fixed
  // Correlated parameters form one factor.
  auto corr =
      load_scenario(small("[[correlations]]\na = \"domestic.hbm_growth\"\nb = \"domestic.hbm_vol\"\nrank = 0.5\n"));
  const auto f = analysis::sensitivity_factors(*corr, false, {});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].name, "domestic.perf_growth");
  EXPECT_EQ(f[1].name, "domestic.hbm_growth+domestic.hbm_vol");
  EXPECT_EQ(analysis::sensitivity_factors(*corr, false, {"domestic.hbm_vol"})[0].members.size(), 2u);
}

// Matrix A is the scenario's own run (stream 0); B and AB_i differ only where
// they should: AB_i's trajectory j equals A's when factor i does not matter.
TEST_F(SensitivityTest, SaltelliDesignsAreParameterStreams) {
  auto sc = load_scenario(small());
  const int n = 2000;
  std::vector<float> plain, a, b, ab_perf;
  analysis::crossing_times_of(*session_, sc->params, 0, n, plain);
  analysis::crossing_times_of(*session_, analysis::saltelli_design(sc->params, {}), 0, n, a);
  EXPECT_EQ(plain, a);
  std::vector<int> all;
  for (int i = 0; i < parity::kMaxParams; ++i)
    if (!sc->param_names[i].empty()) all.push_back(i);
  analysis::crossing_times_of(*session_, analysis::saltelli_design(sc->params, all), 0, n, b);
  EXPECT_NE(a, b);
  const int perf = parity::bloc_param_index(parity::kDomestic, parity::kPerfGrowth);
  analysis::crossing_times_of(*session_, analysis::saltelli_design(sc->params, {perf}), 0, n, ab_perf);
  // units (metric 0) ignore perf_growth; compute (metric 1) does not.
  EXPECT_TRUE(std::equal(a.begin(), a.begin() + n, ab_perf.begin()));
  EXPECT_FALSE(std::equal(a.begin() + n, a.begin() + 2 * n, ab_perf.begin() + n));
}

TEST_F(SensitivityTest, EndToEndIndicesAndTornadoOnASmallScenario) {
  auto sc = load_scenario(small());
  analysis::SensitivityPlan plan;
  plan.output = analysis::parse_output_spec("parity_year:units", sc->run);
  plan.factors = analysis::sensitivity_factors(*sc, false, {});
  plan.base_samples = 4096;
  plan.bootstrap = 100;
  plan.bootstrap_seed = 1;
  plan.tornado_trajectories = 1024;
  plan.threads = 2;
  const auto r = analysis::run_sensitivity(*sc, *session_, plan);
  ASSERT_EQ(plan.factors.size(), 3u);  // hbm_growth, hbm_vol, perf_growth in table order
  const auto& names = plan.factors;
  int growth = -1, perf = -1;
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k].name == "domestic.hbm_growth") growth = static_cast<int>(k);
    if (names[k].name == "domestic.perf_growth") perf = static_cast<int>(k);
  }
  ASSERT_GE(growth, 0);
  ASSERT_GE(perf, 0);
  // units ignore perf_growth: f_ABi == f_A row by row, so both indices are exactly 0.
  EXPECT_EQ(r.sobol.point.first[perf], 0.0);
  EXPECT_EQ(r.sobol.point.total[perf], 0.0);
  // hbm_growth (sd 0.1 on a ~0.3/yr gap closure) dominates.
  EXPECT_GT(r.sobol.point.total[growth], 0.5);
  EXPECT_GT(r.sobol.point.first[growth], 0.3);
  EXPECT_LE(r.sobol.first_ci95[growth].lo, r.sobol.point.first[growth]);
  EXPECT_GE(r.sobol.first_ci95[growth].hi, r.sobol.point.first[growth]);
  EXPECT_GT(r.censored_share, 0.0);
  EXPECT_LT(r.censored_share, 1.0);
  EXPECT_EQ(r.trajectories_run, 5u * 4096 + 7u * 1024);
  // Tornado: faster HBM growth brings parity earlier; perf_growth does nothing.
  ASSERT_EQ(r.tornado.size(), 3u);
  EXPECT_EQ(r.tornado[0].parameter, "domestic.hbm_growth");
  EXPECT_LT(r.tornado[0].swing, -5 * r.tornado[0].swing_stderr);
  EXPECT_NEAR(r.tornado[0].low, 0.45 - 1.2815515655446004 * 0.1, 1e-9);  // the 10th percentile
  EXPECT_NEAR(r.tornado[0].base, 0.45, 1e-12);
  EXPECT_EQ(r.tornado.back().parameter, "domestic.perf_growth");
  EXPECT_EQ(r.tornado.back().swing, 0.0);
  // The JSON carries the documented fields.
  const auto j = nlohmann::json::parse(analysis::sensitivity_json(r, *sc, {}));
  for (const char* k : {"output", "base_samples", "censored_share", "indices", "tornado"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["indices"][0]["parameter"], "domestic.hbm_growth");  // sorted by total index
  for (const char* k : {"first", "first_ci95", "total", "total_ci95"}) EXPECT_TRUE(j["indices"][0].contains(k)) << k;
  for (const char* k : {"parameter", "low", "high", "base", "output", "value_low", "value_high", "swing_stderr"})
    EXPECT_TRUE(j["tornado"][0].contains(k)) << k;
  // low / high are the output (parity years) at the parameter's 10th / 90th percentile.
  EXPECT_EQ(j["tornado"][0]["output"], "parity_year:units");
  EXPECT_EQ(j["tornado"][0]["low"].get<double>(), r.tornado[0].output_low);
  EXPECT_GT(j["tornado"][0]["low"].get<double>(), 2026.0);
  EXPECT_EQ(j["tornado"][0]["value_low"].get<double>(), r.tornado[0].low);
}

}  // namespace
}  // namespace chipcast
