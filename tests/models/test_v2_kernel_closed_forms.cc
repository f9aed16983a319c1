// The kernels' MODEL-v2.md mechanisms (sections 1-5) on deterministic scenarios against closed-form crossing dates.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "tests/support/scenario_files.h"

namespace chipcast {
namespace {

constexpr double kDt = 0.25;
constexpr int kPeriods = 40;     // 2026-2036
constexpr uint64_t kLanes = 19;  // more than one SIMD block, the last one partial

// Tolerance of a crossing date, propagated from float rounding: the log
// ratio is a difference of float logs of magnitude <= 25 after about ten
// operations, so it is off by at most 25 * 2^-24 * 10 = 1.5e-5; the dated
// fraction of the period, (0 - lr_{k-1}) / (lr_k - lr_{k-1}) with a step
// |lr_k - lr_{k-1}| >= 0.02 in every case below, by at most 2 * 1.5e-5 / 0.02
// = 1.5e-3 of a period, i.e. 4e-4 years. An error in a mechanism moves the
// date by a good part of a period (0.25 years) or more.
constexpr double kTolYears = 4e-4;

using Keys = std::map<std::string, std::string>;

// Every trajectory the same: no volatility, noise or learning; yield 1; one
// die per wafer; the limits (dies, HBM, packaging) at "inf" unless set, so a
// case picks the binding one.
std::string bloc_table(const std::string& name, const Keys& overrides) {
  Keys k = {{"wafers0", "1e12"},     {"wafer_growth", "0"},    {"wafer_vol", "0"},     {"wafer_cap", "inf"},
            {"dies_per_wafer", "1"}, {"yield0", "1"},          {"yield_max", "1"},     {"learning_rate", "0"},
            {"yield_noise", "0"},    {"perf0", "1"},           {"perf_growth", "0"},   {"hbm0", "1e15"},
            {"hbm_growth", "0"},     {"hbm_vol", "0"},         {"hbm_per_chip0", "1"}, {"hbm_per_chip_growth", "0"},
            {"packaging0", "inf"},   {"packaging_growth", "0"}};
  for (const auto& [key, v] : overrides) k[key] = v;
  std::string out = "[" + name + "]\n";
  for (const auto& [key, v] : k)
    if (v != "-") out += key + " = " + v + "\n";  // "-": left out
  return out;
}

// The expected crossing date (years since start) of log ratios lr[k] at the
// period ends, by MODEL.md's rule: the first k with lr_k >= 0, dated by
// log-interpolation, T_0 for k = 0. Asserts that no lr_k is so close to 0
// that rounding could move the period.
double expected_date(const std::vector<double>& lr) {
  for (int k = 0; k < static_cast<int>(lr.size()); ++k) {
    EXPECT_GT(std::fabs(lr[k]), 1e-3) << "period " << k << " is too close to the threshold for this test";
    if (lr[k] < 0) continue;
    if (k == 0) return kDt;
    return k * kDt + kDt * (0 - lr[k - 1]) / (lr[k] - lr[k - 1]);
  }
  ADD_FAILURE() << "the closed form never crosses";
  return -1;
}

// Log ratios of a closed form f(t_k, k) at every period end t_k = (k + 1) dt.
std::vector<double> at_period_ends(const std::function<double(double, int)>& f) {
  std::vector<double> lr(kPeriods);
  for (int k = 0; k < kPeriods; ++k) lr[k] = f((k + 1) * kDt, k);
  return lr;
}

// G(t) of MODEL-v2.md section 1.
double big_g(double g, double g_long, double h, double t) {
  return g_long * t + (g - g_long) * (h / std::log(2.0)) * (1 - std::exp2(-t / h));
}

class V2ClosedForms : public testing::ScenarioFileTest {
 protected:
  // The crossing date of `metric` of the scenario (dom, fgn, extra) in every
  // trajectory, on the OpenMP backend, against `expected`.
  void expect_crossing(const Keys& dom, const Keys& fgn, const std::string& extra, int metric, double expected,
                       const std::string& what) {
    const std::string text = "[run]\nstart_year = 2026.0\nhorizon_year = 2036.0\ndt = 0.25\n" +
                             bloc_table("domestic", dom) + bloc_table("foreign", fgn) + extra;
    const auto sc = load_scenario(write("case.toml", text));
    ASSERT_EQ(sc->params.v2, 1) << what << ": not a v2 scenario";
    std::vector<float> t(3 * kLanes);
    make_backend("openmp", BackendOptions{})->crossing_times(sc->params, 0, kLanes, t.data());
    for (uint64_t i = 0; i < kLanes; ++i)
      EXPECT_NEAR(t[metric * kLanes + i], expected, kTolYears) << what << ", trajectory " << i;
  }
};

// ---------------------------------------------------------------- section 1

// Each of the five rates relaxing from 0.8 to 0.1 with a half-life of 2
// years, against the other bloc's constant 0.3: the walks (wafers, HBM) add
// G(t_k) - G(t_{k-1}), the levels (packaging, perf, HBM per chip) use G(t_k).
// log ratio = log 0.6 + G(t) - 0.3 t crosses near 1.3 years.
TEST_F(V2ClosedForms, RelaxingGrowthFollowsItsIntegral) {
  const double expected =
      expected_date(at_period_ends([](double t, int) { return std::log(0.6) + big_g(0.8, 0.1, 2, t) - 0.3 * t; }));
  const Keys relax = {{"growth_halflife", "2"}};
  auto with = [&](Keys k, const std::string& rate) {
    k.insert(relax.begin(), relax.end());
    k[rate] = "0.8";
    k[rate + "_long"] = "0.1";
    return k;
  };
  // Wafers bind (3e4 dies per period): capacity walk.
  expect_crossing(with({{"wafers0", "6000"}}, "wafer_growth"), {{"wafers0", "10000"}, {"wafer_growth", "0.3"}}, "",
                  parity::kUnits, expected, "wafer_growth_long");
  // HBM binds: the HBM walk.
  expect_crossing(with({{"hbm0", "6e5"}}, "hbm_growth"), {{"hbm0", "1e6"}, {"hbm_growth", "0.3"}}, "", parity::kUnits,
                  expected, "hbm_growth_long");
  // Packaging binds: a closed-form level.
  expect_crossing(with({{"packaging0", "6e5"}}, "packaging_growth"),
                  {{"packaging0", "1e6"}, {"packaging_growth", "0.3"}}, "", parity::kUnits, expected,
                  "packaging_growth_long");
  // Equal units, perf relaxes: the compute metric.
  expect_crossing(with({{"packaging0", "1e6"}, {"perf0", "0.6"}}, "perf_growth"),
                  {{"packaging0", "1e6"}, {"perf_growth", "0.3"}}, "", parity::kCompute, expected, "perf_growth_long");
  // Dies bind, HBM per chip relaxes: the memory metric (chips x HBM per chip).
  expect_crossing(with({{"wafers0", "1e4"}, {"hbm_per_chip0", "0.6"}}, "hbm_per_chip_growth"),
                  {{"wafers0", "1e4"}, {"hbm_per_chip_growth", "0.3"}}, "", parity::kMemory, expected,
                  "hbm_per_chip_growth_long");
}

// ---------------------------------------------------------------- section 2

// Foreign packaging allows 3e5 chips a period, its flow 1e5; a stock of
// 6.5 periods' shortfall (1.3e6) fills the gap for six periods, half of it in
// the seventh, then is empty: against domestic's constant 2.5e5 the ratio is
// 2.5/3 for k < 6, 2.5/2 at k = 6, 2.5 after.
TEST_F(V2ClosedForms, StockIsDrawnDownByTheShortfallUntilEmpty) {
  std::vector<double> lr(kPeriods);
  for (int k = 0; k < kPeriods; ++k) lr[k] = std::log(2.5 / (k < 6 ? 3.0 : (k == 6 ? 2.0 : 1.0)));
  const double expected = expected_date(lr);
  const Keys dom = {{"hbm0", "1e6"}};  // 2.5e5 chips a period
  // HBM: flow 1e5 GB a period at 1 GB per chip.
  expect_crossing(dom, {{"hbm0", "4e5"}, {"packaging0", "1.2e6"}, {"hbm_stock0", "1.3e6"}}, "", parity::kUnits,
                  expected, "hbm_stock0");
  // Dies: 1e5 good dies a period (wafers0 * 12 * dt).
  expect_crossing(dom, {{"wafers0", "33333.333333333333"}, {"packaging0", "1.2e6"}, {"die_stock0", "1.3e6"}}, "",
                  parity::kUnits, expected, "die_stock0");
  // Stocks of 0 leave the v1 formula: crossed in period 0 (dated T_0).
  expect_crossing(dom, {{"hbm0", "4e5"}, {"packaging0", "1.2e6"}, {"hbm_stock0", "0"}, {"die_stock0", "0"}}, "",
                  parity::kUnits, kDt, "stocks of 0");
  // A flow not used in its period is not carried over, and flows go first:
  // foreign's HBM flow 6e5 e^{-0.4 (k+1)} GB falls through packaging's 3e5
  // after period 0 (whose 1.02e5 unused GB are lost), and a stock of 4e4 GB
  // makes up period 1's shortfall and part of period 2's. MODEL-v2.md's
  // section 2 in double; carrying period 0's surplus would cross a period later.
  std::vector<double> carry(kPeriods);
  double stock = 4e4;
  for (int k = 0; k < kPeriods; ++k) {
    const double flow = 6e5 * std::exp(-0.4 * (k + 1));
    const double chips = std::min(flow + stock, 3e5);
    stock -= std::max(0.0, chips - flow);
    carry[k] = std::log(2.5e5 / chips);
  }
  expect_crossing(dom, {{"hbm0", "2.4e6"}, {"hbm_growth", "-1.6"}, {"packaging0", "1.2e6"}, {"hbm_stock0", "4e4"}}, "",
                  parity::kUnits, expected_date(carry), "flows first, no carry-over");
}

// ---------------------------------------------------------------- section 3

// An event moves every trajectory at 2028.0 (period 8) into regime "up";
// the regime's effect acts from that period on (its own period included).
TEST_F(V2ClosedForms, RegimeGrowthAdjustmentsAndPackagingMult) {
  const std::string policy = R"(
[policy]
initial = "base"
[policy.regimes.base]
[policy.regimes.up.domestic]
EFFECT
[[policy.events]]
at = 2028.0
regime = "up"
probability = 1.0
)";
  auto with_effect = [&](const std::string& effect) {
    std::string s = policy;
    s.replace(s.find("EFFECT"), 6, effect);
    return s;
  };
  // Growth adjustment 0.4/yr from period 8: log ratio log 0.8 + 0.4 dt (k - 7).
  const double expected =
      expected_date(at_period_ends([](double, int k) { return std::log(0.8) + (k >= 8 ? 0.4 * kDt * (k - 7) : 0.0); }));
  expect_crossing({{"hbm0", "8e5"}}, {{"hbm0", "1e6"}}, with_effect("hbm_growth_adj = 0.4"), parity::kUnits, expected,
                  "hbm_growth_adj");
  expect_crossing({{"packaging0", "8e5"}}, {{"packaging0", "1e6"}}, with_effect("packaging_growth_adj = 0.4"),
                  parity::kUnits, expected, "packaging_growth_adj");
  expect_crossing({{"packaging0", "1e6"}, {"perf0", "0.8"}}, {{"packaging0", "1e6"}},
                  with_effect("perf_growth_adj = 0.4"), parity::kCompute, expected, "perf_growth_adj");
  // packaging_mult 1.5 from period 8: log 0.8 -> log 1.2.
  const double mult = expected_date(at_period_ends([](double, int k) { return std::log(k >= 8 ? 1.2 : 0.8); }));
  expect_crossing({{"packaging0", "8e5"}}, {{"packaging0", "1e6"}}, with_effect("packaging_mult = 1.5"), parity::kUnits,
                  mult, "packaging_mult");
}

// Domestic capacity sits at its ceiling C (growth 0.4/yr, 0.1 a period);
// wafer_cap_mult 0.5 holds in periods 8-15, then the ceiling is C again but
// the capacity cut to 0.5 C does not spring back: it regrows by 0.1 a
// period. Foreign units fall by 0.05 a period from 1.6 C-units. The ratio
// first reaches 1 at k = 18 on the regrowth (at k = 16 if it sprang back).
TEST_F(V2ClosedForms, WaferCapMultCutsAndCapacityDoesNotSpringBack) {
  const std::string policy = R"(
[policy]
initial = "base"
[policy.regimes.base]
[policy.regimes.cut.domestic]
wafer_cap_mult = 0.5
[[policy.events]]
at = 2028.0
regime = "cut"
probability = 1.0
[[policy.events]]
at = 2030.0
regime = "base"
probability = 1.0
)";
  const double expected = expected_date(at_period_ends([](double, int k) {
    const double dom = k < 8 ? 0.0 : (k < 16 ? std::log(0.5) : std::min(0.0, std::log(0.5) + 0.1 * (k - 15)));
    return dom - (std::log(1.6) - 0.05 * (k + 1));
  }));
  // 3e4 dies a period at the ceiling; foreign HBM-bound: 1.6 * 3e4 a period at 1 GB per chip.
  expect_crossing({{"wafers0", "10000"}, {"wafer_cap", "10000"}, {"wafer_growth", "0.4"}},
                  {{"hbm0", "1.92e5"}, {"hbm_growth", "-0.2"}}, policy, parity::kUnits, expected, "wafer_cap_mult");
}

// ---------------------------------------------------------------- section 4

// Domestic perf lags the foreign frontier by L(t) = max(0, 2 - 0.5 t) with
// 1.1x the foreign units: log ratio log 1.1 + 0.3 (t - L(t)) - 0.3 t.
TEST_F(V2ClosedForms, PerfLagFollowsTheOtherFrontier) {
  const Keys dom = {
      {"hbm0", "1.1e6"}, {"perf0", "-"}, {"perf_growth", "-"}, {"perf_lag", "2"}, {"perf_lag_drift", "-0.5"}};
  const double linear =
      expected_date(at_period_ends([](double t, int) { return std::log(1.1) - 0.3 * std::max(0.0, 2.0 - 0.5 * t); }));
  expect_crossing(dom, {{"hbm0", "1e6"}, {"perf_growth", "0.3"}, {"perf0", "2"}}, "", parity::kCompute, linear,
                  "perf_lag with drift");
  // A relaxing frontier (0.6 -> 0.1, half-life 1.5) 1 and 3 years ahead:
  // before the start (t - L < 0) the frontier's rate at the start, 0.6,
  // extrapolates it; with a lag of 1 the crossing (near t = 2) reads the
  // frontier after the start, with a lag of 3 before it.
  const Keys frontier = {
      {"hbm0", "1e6"}, {"perf_growth", "0.6"}, {"perf_growth_long", "0.1"}, {"growth_halflife", "1.5"}, {"perf0", "3"}};
  for (const auto& [lag, u] : {std::pair<double, double>{1.0, 1.42}, {3.0, 4.263}}) {
    // Copies: C++17 lambdas cannot capture structured bindings (clang refuses it).
    const double relaxed = expected_date(at_period_ends([lag = lag, u = u](double t, int) {
      const double s_ = t - lag;
      const double g_at = s_ < 0 ? 0.6 * s_ : big_g(0.6, 0.1, 1.5, s_);
      return std::log(u) + g_at - big_g(0.6, 0.1, 1.5, t);
    }));
    expect_crossing(
        {{"hbm0", std::to_string(u * 1e6)}, {"perf0", "-"}, {"perf_growth", "-"}, {"perf_lag", std::to_string(lag)}},
        frontier, "", parity::kCompute, relaxed, "perf_lag " + std::to_string(lag) + " behind a relaxing frontier");
  }
}

// ---------------------------------------------------------------- section 5

// A shock on foreign that occurs in every period (rate 1e9/yr) with loss 0.1
// cuts its binding quantity's log level by log 0.9 per period, in the period
// it occurs: against domestic's constant half, log ratio
// log 0.5 - (k + 1) log 0.9.
TEST_F(V2ClosedForms, ShockTargetsCutTheirQuantityAtOnce) {
  const double expected =
      expected_date(at_period_ends([](double, int k) { return std::log(0.5) - (k + 1) * std::log(0.9); }));
  auto shock = [](const std::string& target) {
    return "[[shocks]]\nname = \"s\"\nbloc = \"foreign\"\ntarget = \"" + target + "\"\nrate = 1e9\nloss = 0.1\n";
  };
  expect_crossing({{"hbm0", "5e5"}}, {{"hbm0", "1e6"}}, shock("hbm"), parity::kUnits, expected, "target hbm");
  expect_crossing({{"packaging0", "5e5"}}, {{"packaging0", "1e6"}}, shock("packaging"), parity::kUnits, expected,
                  "target packaging");
  // Foreign capacity at its ceiling: the ceiling falls and capacity with it.
  expect_crossing({{"wafers0", "5000"}}, {{"wafers0", "10000"}, {"wafer_cap", "10000"}}, shock("wafer_cap"),
                  parity::kUnits, expected, "target wafer_cap");
  // A shock on a limit that does not bind changes nothing: HBM shocks on a
  // die-bound foreign, so domestic's half never reaches parity.
  const auto sc = load_scenario(write("slack.toml", "[run]\nstart_year = 2026.0\nhorizon_year = 2036.0\ndt = 0.25\n" +
                                                        bloc_table("domestic", {{"wafers0", "5000"}}) +
                                                        bloc_table("foreign", {{"wafers0", "10000"}}) + shock("hbm")));
  std::vector<float> t(3 * kLanes);
  make_backend("openmp", BackendOptions{})->crossing_times(sc->params, 0, kLanes, t.data());
  for (uint64_t i = 0; i < kLanes; ++i) EXPECT_LT(t[i], 0.0f) << "trajectory " << i << " crossed at " << t[i];
}

}  // namespace
}  // namespace chipcast
