// `chipcast compare` and `chipcast sensitivity` end to end through the binary (skipped until main.cc registers them).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::read_text;
using testing::run_chipcast;
using testing::ScratchDir;
using testing::write_text;

const std::string kBaseline = testing::kSourceDir + "/configs/baseline.toml";

class CliAnalysis : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto help = run_chipcast("compare --help");
    if (help.status != 0 || help.output.find("common random numbers") == std::string::npos)
      GTEST_SKIP() << "`chipcast compare` is not registered in host/cli/main.cc yet (add_analysis_commands from "
                      "host/cli/analysis_commands.h); exit status "
                   << help.status;
  }
  // minimal.toml with three uncertain domestic parameters (HBM-bound, parity within the 10 years).
  static std::string small(const ScratchDir& dir, const std::string& name, double hbm_growth_mean) {
    const auto path = dir / name;
    write_text(path, "extends = \"" + testing::kMinimalToml +
                         "\"\n[domestic]\nhbm_growth = { dist = \"normal\", mean = " + std::to_string(hbm_growth_mean) +
                         ", sd = 0.1 }\nperf_growth = { dist = \"uniform\", low = 0.2, high = 0.3 }\n"
                         "hbm_vol = { dist = \"uniform\", low = 0.05, high = 0.15 }\n");
    return path.string();
  }
};

TEST_F(CliAnalysis, CompareWritesJsonAndCsvAndAScenarioAgainstItselfIsZero) {
  ScratchDir dir("cmp-self");
  const auto r =
      run_chipcast("compare " + kBaseline + " " + kBaseline + " -n 3000 --threads 2 --out " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("common random numbers"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir / "o" / "compare.json"));
  EXPECT_EQ(j["trajectories"], 3000);
  EXPECT_EQ(j["seed"], 20261123);
  for (const char* m : {"units", "compute", "memory"}) {
    const auto& mj = j["comparisons"][0]["metrics"][m];
    for (const auto& row : mj["p_parity_by"]) {
      EXPECT_EQ(row["shift"], 0.0);
      EXPECT_EQ(row["shift_stderr"], 0.0);
    }
    EXPECT_EQ(mj["share_unchanged"], 1.0);
  }
  const std::string csv = read_text(dir / "o" / "compare.csv");
  EXPECT_EQ(csv.rfind("scenario,metric,quantity,year,a,b,shift,shift_stderr,shift_stderr_unpaired\n", 0), 0u);
  EXPECT_NE(csv.find(",units,median_year,"), std::string::npos);
  EXPECT_NE(csv.find(",memory,p_parity_by,2060.0000,"), std::string::npos);
}

TEST_F(CliAnalysis, CompareRunsEveryScenarioWithTheFirstSeedUnlessGiven) {
  ScratchDir dir("cmp-seed");
  const std::string a = small(dir, "a.toml", 0.45);
  const std::string b = (dir / "b.toml").string();
  write_text(b, "extends = \"" + a +
                    "\"\n[run]\nseed = 99\n[domestic]\nhbm_growth = { dist = \"normal\", mean = "
                    "0.46, sd = 0.1 }\n");
  const auto r = run_chipcast("compare " + a + " " + b + " -n 2048 -q --out " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir / "o" / "compare.json"));
  EXPECT_EQ(j["seed"], 2026);  // minimal.toml's default, not b's 99
  const auto& u = j["comparisons"][0]["metrics"]["units"];
  EXPECT_EQ(u["share_later"], 0.0);  // faster HBM growth, same random numbers: never later
  EXPECT_GT(u["share_earlier"].get<double>(), 0.5);
  EXPECT_LT(u["median_shift"].get<double>(), 0.0);
  EXPECT_GT(u["median_shift_stderr"].get<double>(), 0.0);
  const auto s =
      run_chipcast("compare " + a + " " + b + " -n 2048 -q --seed 7 --sampling latin --out " + (dir / "p").string());
  ASSERT_EQ(s.status, 0) << s.output;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir / "p" / "compare.json"))["seed"], 7);
}

TEST_F(CliAnalysis, CompareRefusesBadInputWithStatusTwoAndWritesNothing) {
  ScratchDir dir("cmp-bad");
  const std::string a = small(dir, "a.toml", 0.45);
  const auto one = run_chipcast("compare " + a + " -q --out " + (dir / "o").string());
  EXPECT_EQ(one.status, 2) << one.output;
  EXPECT_NE(one.output.find("at least two configs"), std::string::npos) << one.output;
  const std::string longer = (dir / "longer.toml").string();
  write_text(longer, "extends = \"" + a + "\"\n[run]\nhorizon_year = 2040.0\n");
  const auto grid = run_chipcast("compare " + a + " " + longer + " -n 1000 -q --out " + (dir / "o").string());
  EXPECT_EQ(grid.status, 2) << grid.output;
  EXPECT_NE(grid.output.find("run.horizon_year"), std::string::npos) << grid.output;
  const std::string broken = (dir / "broken.toml").string();
  write_text(broken, "extends = \"" + a + "\"\n[domestic]\nwafers0 = -1\n");
  const auto bad = run_chipcast("compare " + a + " " + broken + " -q --out " + (dir / "o").string());
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("domestic.wafers0"), std::string::npos) << bad.output;
  const auto sampling = run_chipcast("compare " + a + " " + a + " --sampling sobol -q --out " + (dir / "o").string());
  EXPECT_EQ(sampling.status, 2) << sampling.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o"));
}

TEST_F(CliAnalysis, SensitivityWritesIndicesAndTornado) {
  ScratchDir dir("sens");
  const std::string a = small(dir, "a.toml", 0.45);
  const auto r = run_chipcast("sensitivity " + a +
                              " --base-samples 2048 --bootstrap 40 --tornado-trajectories 256 --threads 2 --out " +
                              (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("domestic.hbm_growth"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir / "o" / "sensitivity.json"));
  EXPECT_EQ(j["output"], "parity_year:units");
  EXPECT_EQ(j["base_samples"], 2048);
  EXPECT_TRUE(j["censored_share"].is_number());
  ASSERT_EQ(j["indices"].size(), 3u);
  EXPECT_EQ(j["indices"][0]["parameter"], "domestic.hbm_growth");
  EXPECT_EQ(j["indices"][0]["first_ci95"].size(), 2u);
  EXPECT_EQ(j["tornado"].size(), 3u);
  const std::string csv = read_text(dir / "o" / "sensitivity.csv");
  EXPECT_EQ(csv.rfind("section,parameter,quantity,value,stderr,lo95,hi95\n", 0), 0u);
  EXPECT_NE(csv.find("sobol,domestic.hbm_growth,total,"), std::string::npos);
  EXPECT_NE(csv.find("tornado,domestic.hbm_growth,swing,"), std::string::npos);
  // An indicator output and a selection of parameters.
  const auto p = run_chipcast("sensitivity " + a +
                              " --output p_parity_by:2034:units --parameters domestic.hbm_vol --base-samples 1024 "
                              "--bootstrap 20 --tornado-trajectories 128 -q --out " +
                              (dir / "p").string());
  ASSERT_EQ(p.status, 0) << p.output;
  const auto k = nlohmann::json::parse(read_text(dir / "p" / "sensitivity.json"));
  ASSERT_EQ(k["indices"].size(), 1u);
  EXPECT_EQ(k["indices"][0]["parameter"], "domestic.hbm_vol");
}

// The CSVs (no timing fields) are byte-identical whatever the thread count.
TEST_F(CliAnalysis, OutputsDoNotDependOnTheThreadCount) {
  ScratchDir dir("threads");
  const std::string a = small(dir, "a.toml", 0.45), b = small(dir, "b.toml", 0.46);
  for (const char* t : {"1", "2"}) {
    const std::string o = (dir / (std::string("o") + t)).string();
    const auto c = run_chipcast("compare " + a + " " + b + " -n 3000 -q --threads " + t + " --out " + o);
    ASSERT_EQ(c.status, 0) << c.output;
    const auto s = run_chipcast("sensitivity " + a +
                                " --sampling latin --base-samples 1000 --bootstrap 30 "
                                "--tornado-trajectories 100 -q --threads " +
                                std::string(t) + " --out " + o);
    ASSERT_EQ(s.status, 0) << s.output;
  }
  EXPECT_EQ(read_text(dir / "o1" / "compare.csv"), read_text(dir / "o2" / "compare.csv"));
  EXPECT_EQ(read_text(dir / "o1" / "sensitivity.csv"), read_text(dir / "o2" / "sensitivity.csv"));
}

TEST_F(CliAnalysis, SensitivityRefusesBadFlagsWithStatusTwoAndWritesNothing) {
  ScratchDir dir("sens-bad");
  const std::string a = small(dir, "a.toml", 0.45);
  const std::string out = " -q --out " + (dir / "o").string();
  const auto output = run_chipcast("sensitivity " + a + " --output p_parity_by:2050:units" + out);
  EXPECT_EQ(output.status, 2) << output.output;  // after minimal.toml's 2036 horizon
  EXPECT_NE(output.output.find("(2026, 2036]"), std::string::npos) << output.output;
  const auto param = run_chipcast("sensitivity " + a + " --parameters domestic.wafers0" + out);
  EXPECT_EQ(param.status, 2) << param.output;  // fixed in this scenario
  EXPECT_NE(param.output.find("domestic.hbm_growth"), std::string::npos) << param.output;
  const auto group = run_chipcast("sensitivity " + a + " --parameters policy_and_shocks" + out);
  EXPECT_EQ(group.status, 2) << group.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o"));
}

// compare and sensitivity run through the run session, so they share `chipcast run`'s refusal to run
// as one of several launcher tasks whose MPI world has one rank (each would do the whole job).
TEST_F(CliAnalysis, AnalysesRefuseToRunAsOneOfManyTasks) {
  ScratchDir dir("many-tasks");
  const std::string a = small(dir, "a.toml", 0.5);
  const std::string env = "SLURM_STEP_NUM_TASKS=4 ";
  const auto cmp = testing::run_command(env + CHIPCAST_EXE + " compare " + a + " " + a + " -n 1000 -q --out " +
                                        (dir / "c").string());
  EXPECT_EQ(cmp.status, 2) << cmp.output;
  EXPECT_NE(cmp.output.find("tasks the launcher started"), std::string::npos) << cmp.output;
  const auto sens =
      testing::run_command(env + CHIPCAST_EXE + " sensitivity " + a +
                           " --base-samples 64 --tornado-trajectories 64 -q --out " + (dir / "s").string());
  EXPECT_EQ(sens.status, 2) << sens.output;
  EXPECT_NE(sens.output.find("tasks the launcher started"), std::string::npos) << sens.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "c"));
  EXPECT_FALSE(std::filesystem::exists(dir / "s"));
}

}  // namespace
}  // namespace chipcast
