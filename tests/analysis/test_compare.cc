// Scenario comparison with common random numbers: exact zeros against itself, paired standard errors that are
// smaller than unpaired ones and that match the spread of the shift across seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "host/analysis/compare.h"
#include "host/config/scenario.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kMinimalToml;
using testing::kSourceDir;

class CompareTest : public testing::ScenarioRunTest {
 protected:
  // A small scenario (10 years) whose domestic output is HBM-bound, so that
  // hbm_growth moves the parity year; `mean` is hbm_growth's mean.
  std::string small(const std::string& name, double mean) {
    return write(name, "extends = \"" + kMinimalToml + "\"\n[domestic]\n" +
                           "hbm_growth = { dist = \"normal\", mean = " + std::to_string(mean) +
                           ", sd = 0.1 }\nperf_growth = { dist = \"uniform\", low = 0.2, high = 0.3 }\n");
  }
  analysis::Comparison compare(const std::vector<std::string>& paths, uint64_t n, uint64_t seed,
                               uint64_t chunk = analysis::kCrossingChunk) {
    std::vector<std::unique_ptr<Scenario>> owned;
    std::vector<const Scenario*> sc;
    for (const auto& p : paths) {
      owned.push_back(load_scenario(p, Overrides{n, seed, std::nullopt}));
      sc.push_back(owned.back().get());
    }
    return analysis::compare_scenarios(sc, *session_, n, chunk);
  }
};

// On the Taiwan scenario, whose q05 parity year lies inside the horizon (the v2
// baseline's does not), so the quantile's standard error exists.
TEST_F(CompareTest, ScenarioAgainstItselfHasExactlyZeroShiftAndStandardError) {
  const std::string base = kSourceDir + "/configs/taiwan_disruption.toml";
  const auto c = compare({base, base}, 4096, 20261123);
  ASSERT_EQ(c.scenarios.size(), 1u);
  for (const auto& m : c.scenarios[0].metrics) {
    EXPECT_EQ(m.share_unchanged, 1.0);
    EXPECT_EQ(m.share_earlier, 0.0);
    EXPECT_EQ(m.share_later, 0.0);
    for (const auto& q : m.quantiles) {
      EXPECT_EQ(q.year_a, q.year_b);
      if (q.shift) {
        EXPECT_EQ(*q.shift, 0.0);
      }
      if (q.shift_stderr) {
        EXPECT_EQ(*q.shift_stderr, 0.0);
      }
    }
    bool some_p = false;
    for (const auto& r : m.p_parity_by) {
      EXPECT_EQ(r.shift, 0.0);
      EXPECT_EQ(r.shift_stderr, 0.0);
      EXPECT_EQ(r.p_a, r.p_b);
      some_p = some_p || (r.p_a > 0 && r.p_a < 1 && r.shift_stderr_unpaired > 0);
    }
    EXPECT_TRUE(some_p);  // the zeros are not those of a degenerate scenario
  }
  // The q05 is within the horizon for the baseline, so its zero standard error was checked.
  EXPECT_TRUE(c.scenarios[0].metrics[0].quantiles[0].shift_stderr.has_value());
  // And the JSON says so with the required field names.
  const auto j = nlohmann::json::parse(analysis::compare_json(c, {}));
  const auto& u = j["comparisons"][0]["metrics"]["units"];
  EXPECT_EQ(u["p_parity_by"].back()["shift"], 0.0);
  EXPECT_EQ(u["p_parity_by"].back()["shift_stderr"], 0.0);
  EXPECT_TRUE(u.contains("median_shift"));
  EXPECT_TRUE(u.contains("median_shift_stderr"));
}

// The Taiwan scenario (P(units parity by Y) between 0.05 and 0.95 over most of
// the horizon; the v2 baseline's stays below 0.05) against a copy with the
// foreign near-term packaging_growth's mean (the foreign binding limit's rate)
// nudged from 0.30 to 0.29: with common random numbers each trajectory's
// foreign packaging falls and nothing domestic changes, so its parity year can
// only move earlier, and the paired standard error of the shift in P(parity by
// Y) is far below the unpaired one. (A domestic nudge would not do: the die
// bank and HBM stockpile drawn earlier are missing later, so a faster domestic
// ramp can move a parity year later.)
TEST_F(CompareTest, PairedStandardErrorIsSmallerThanUnpairedForCloseScenarios) {
  const std::string base = kSourceDir + "/configs/taiwan_disruption.toml";
  const std::string nudged = write("nudged.toml", "extends = \"" + base + "\"\n[foreign]\n" +
                                                      "packaging_growth = { dist = \"normal\", mean = 0.29, sd = 0.12, "
                                                      "min = 0.0 }\n");
  const auto c = compare({base, nudged}, 20000, 20261123);
  const auto& m = c.scenarios[0].metrics[0];
  EXPECT_EQ(m.share_later, 0.0);
  EXPECT_GT(m.share_earlier, 0.0);
  int checked = 0;
  for (const auto& r : m.p_parity_by) {
    EXPECT_GE(r.shift, 0.0) << r.year;
    if (r.p_a < 0.05 || r.p_a > 0.95) continue;
    EXPECT_LT(r.shift_stderr, 0.5 * r.shift_stderr_unpaired) << r.year;
    ++checked;
  }
  EXPECT_GT(checked, 40);
  EXPECT_GT(m.p_parity_by.back().shift, 5 * m.p_parity_by.back().shift_stderr);
}

// The reported standard errors describe the shift's sampling spread: over 40
// seeds, the standard deviation of the shift is within 40 % of the root mean
// square of the reported standard errors, for P(parity by Y) (discordant
// counts) and for the median (batch means). With 40 seeds the sample standard
// deviation itself is uncertain by ~11 %, so this is a ~4-sigma band.
TEST_F(CompareTest, StandardErrorsMatchTheSpreadOfTheShiftAcrossSeeds) {
  const std::string a = small("a.toml", 0.45), b = small("b.toml", 0.46);
  const int seeds = 40;
  std::vector<double> p_shift, p_se, med_shift, med_se;
  for (int s = 0; s < seeds; ++s) {
    const auto c = compare({a, b}, 4096, 1000 + s);
    const auto& m = c.scenarios[0].metrics[0];
    const auto& row = m.p_parity_by[31];  // 2034, P ~ 0.6
    p_shift.push_back(row.shift);
    p_se.push_back(row.shift_stderr);
    ASSERT_TRUE(m.median_shift && m.median_shift_stderr) << s;
    med_shift.push_back(*m.median_shift);
    med_se.push_back(*m.median_shift_stderr);
  }
  auto sd = [](const std::vector<double>& v) {
    double mean = 0, ss = 0;
    for (double x : v) mean += x;
    mean /= v.size();
    for (double x : v) ss += (x - mean) * (x - mean);
    return std::sqrt(ss / (v.size() - 1));
  };
  auto rms = [](const std::vector<double>& v) {
    double ss = 0;
    for (double x : v) ss += x * x;
    return std::sqrt(ss / v.size());
  };
  EXPECT_NEAR(sd(p_shift) / rms(p_se), 1.0, 0.4) << sd(p_shift) << " vs " << rms(p_se);
  EXPECT_NEAR(sd(med_shift) / rms(med_se), 1.0, 0.4) << sd(med_shift) << " vs " << rms(med_se);
}

// Chunking (bounded memory) does not change anything.
TEST_F(CompareTest, ResultDoesNotDependOnTheChunkSize) {
  const std::string a = small("a.toml", 0.45), b = small("b.toml", 0.46);
  const auto whole = compare({a, b}, 3000, 5);
  const auto pieces = compare({a, b}, 3000, 5, 700);
  EXPECT_EQ(analysis::compare_csv(whole), analysis::compare_csv(pieces));
}

TEST_F(CompareTest, DifferentTimeGridsAreRefused) {
  const std::string a = small("a.toml", 0.45);
  const std::string c = write("c.toml", "extends = \"" + a + "\"\n[run]\nhorizon_year = 2040.0\n");
  try {
    compare({a, c}, 1000, 5);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("run.horizon_year"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace chipcast
