// The chipcast command line end to end: determinism, bad input, censoring, validate and info.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kMinimalToml;
using testing::kSourceDir;
using testing::read_text;
using testing::run_chipcast;
using testing::ScratchDir;
using testing::write_text;

// summary.json without the fields that describe the run rather than the result.
nlohmann::json result_fields(const std::string& path) {
  auto j = nlohmann::json::parse(read_text(path));
  for (const char* k : {"seconds", "started_utc", "command_line", "threads", "backend_detail"}) j.erase(k);
  return j;
}

TEST(CliRun, OutputsAreByteIdenticalForAnyThreadCountAndBatchSize) {
  ScratchDir dir("determinism");
  const std::string common = "run " + kSourceDir + "/configs/baseline.toml -n 6000 -q";
  const auto a = run_chipcast(common + " --threads 1 --batch 1000 --out " + (dir / "a").string());
  const auto b = run_chipcast(common + " --threads 2 --batch 777 --out " + (dir / "b").string());
  const auto c = run_chipcast(common + " --threads 2 --out " + (dir / "c").string());
  ASSERT_EQ(a.status, 0) << a.output;
  ASSERT_EQ(b.status, 0) << b.output;
  ASSERT_EQ(c.status, 0) << c.output;
  for (const char* f : {"crossing.csv", "bands.csv", "annual.csv", "resolved.toml"}) {
    EXPECT_FALSE(read_text(dir / "a" / f).empty()) << f;
    EXPECT_EQ(read_text(dir / "a" / f), read_text(dir / "b" / f)) << f;
    EXPECT_EQ(read_text(dir / "a" / f), read_text(dir / "c" / f)) << f;
  }
  EXPECT_EQ(result_fields((dir / "a" / "summary.json").string()), result_fields((dir / "b" / "summary.json").string()));
  // A different seed must change the result (the comparison above can fail).
  const auto d = run_chipcast(common + " --seed 7 --out " + (dir / "d").string());
  ASSERT_EQ(d.status, 0) << d.output;
  EXPECT_NE(read_text(dir / "a" / "bands.csv"), read_text(dir / "d" / "bands.csv"));
}

TEST(CliRun, SummaryCarriesProvenance) {
  ScratchDir dir("provenance");
  const auto r = run_chipcast("run " + kMinimalToml + " -n 3000 -q --seed 11 --out " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir / "o" / "summary.json"));
  EXPECT_EQ(j["trajectories"], 3000);
  EXPECT_EQ(j["seed"], 11);
  EXPECT_EQ(j["backend"], "openmp");
  EXPECT_TRUE(std::regex_match(j["config_sha256"].get<std::string>(), std::regex("[0-9a-f]{64}")));
  EXPECT_TRUE(j.contains("version"));
  EXPECT_TRUE(j["seconds"].is_number());
  for (const char* m : {"units", "compute", "memory"}) {
    ASSERT_TRUE(j["metrics"].contains(m));
    EXPECT_TRUE(j["metrics"][m].contains("p_parity_by_horizon"));
    for (const char* q : {"q05", "q50", "q95"}) EXPECT_TRUE(j["metrics"][m]["crossing_year"].contains(q));
  }
  EXPECT_NE(read_text(dir / "o" / "resolved.toml").find("seed = 11"), std::string::npos);
}

TEST(CliRun, NeverReachingParityReportsNullQuantiles) {
  ScratchDir dir("censored");
  std::string text = read_text(kMinimalToml);
  // A threshold no trajectory can reach: every one is right-censored.
  text = std::regex_replace(text, std::regex("dt = 0.25"), "dt = 0.25\nthreshold = 1.0e6");
  write_text(dir / "never.toml", text);
  const auto r = run_chipcast("run " + (dir / "never.toml").string() + " -n 4000 -q --out " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir / "o" / "summary.json"));
  for (const char* m : {"units", "compute", "memory"}) {
    EXPECT_EQ(j["metrics"][m]["p_parity_by_horizon"], 0.0) << m;
    EXPECT_EQ(j["metrics"][m]["p_no_parity_by_horizon"], 1.0) << m;
    for (const char* q : {"q05", "q50", "q95"}) EXPECT_TRUE(j["metrics"][m]["crossing_year"][q].is_null()) << m << q;
  }
}

struct BadInput {
  const char* name;
  const char* from;  // regex on minimal.toml
  const char* to;
  const char* must_mention;
};

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

// Each kind of error of MODEL.md's Config section: non-zero exit, the key
// named, nothing written to the output folder.
TEST_P(CliBadInput, FailsNamingTheKeyAndWritesNothing) {
  const BadInput& b = GetParam();
  ScratchDir dir(std::string("bad-") + b.name);
  std::string text = read_text(kMinimalToml);
  const std::string changed = std::regex_replace(text, std::regex(b.from), b.to);
  ASSERT_NE(changed, text) << "fixture pattern did not match: " << b.from;
  write_text(dir / "bad.toml", changed);
  const auto r = run_chipcast("run " + (dir / "bad.toml").string() + " -n 100 -q --out " + (dir / "out").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(b.must_mention), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.toml"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out")) << "output folder written on bad input";
  const auto v = run_chipcast("validate " + (dir / "bad.toml").string());
  EXPECT_NE(v.status, 0);
}

INSTANTIATE_TEST_SUITE_P(
    ConfigErrors, CliBadInput,
    ::testing::Values(
        BadInput{"unknown_key", "perf_growth = 0.25", "perf_growth = 0.25\nperf_grwoth = 0.1", "perf_grwoth"},
        BadInput{"missing_parameter", "\\npackaging_growth = 0.3", "", "packaging_growth"},
        BadInput{"sd_not_positive", "wafer_growth = 0.2", "wafer_growth = { dist = \"normal\", mean = 0.2, sd = 0 }",
                 "wafer_growth"},
        BadInput{"gsd_not_above_one", "wafers0 = 20000",
                 "wafers0 = { dist = \"lognormal\", median = 20000, gsd = 0.9 }", "wafers0"},
        BadInput{"probability_outside_unit", "\\[domestic\\]",
                 "[policy]\ninitial = \"a\"\n[policy.regimes.a]\n[policy.regimes.b]\n[policy.transitions]\na = { b = "
                 "1.5 }\n\n["
                 "domestic]",
                 "policy.transitions"},
        BadInput{"low_not_below_high", "learning_rate = 0.3",
                 "learning_rate = { dist = \"uniform\", low = 0.5, high = 0.2 }", "learning_rate"},
        BadInput{
            "unknown_regime", "\\[domestic\\]",
            "[policy]\ninitial = \"a\"\n[policy.regimes.a]\n[policy.transitions]\na = { nowhere = 0.1 }\n\n[domestic]",
            "nowhere"},
        BadInput{"untruncated_normal_for_wafers0", "wafers0 = 20000",
                 "wafers0 = { dist = \"normal\", mean = 20000, sd = 5000 }", "wafers0"},
        BadInput{"yield_can_exceed_one", "yield0 = 0.4", "yield0 = { dist = \"uniform\", low = 0.2, high = 1.3 }",
                 "yield0"}),
    [](const ::testing::TestParamInfo<BadInput>& i) { return std::string(i.param.name); });

TEST(CliRun, MalformedTomlNamesTheLine) {
  ScratchDir dir("malformed");
  write_text(dir / "broken.toml", "[run]\nstart_year = 2026.0\nhorizon_year = = 2060\n");
  const auto r = run_chipcast("run " + (dir / "broken.toml").string() + " -q --out " + (dir / "out").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("broken.toml:3"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

TEST(CliRun, ValidatePrintsTheResolvedScenario) {
  const auto r = run_chipcast("validate " + kSourceDir + "/configs/taiwan_disruption.toml");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("[domestic]"), std::string::npos);
  EXPECT_EQ(r.output.find("extends"), std::string::npos) << "extends should be resolved away";
}

TEST(CliRun, InfoListsVersionAndBackends) {
  const auto r = run_chipcast("info");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("chipcast "), std::string::npos);
  EXPECT_NE(r.output.find("openmp"), std::string::npos);
}

TEST(CliRun, UnknownBackendIsAClearError) {
  ScratchDir dir("backend");
  const auto r = run_chipcast("run " + kMinimalToml + " -q --backend nosuch --out " + (dir / "o").string());
  EXPECT_EQ(r.status, 2) << r.output;  // a bad flag, like every other (issue 14: it was 3)
  EXPECT_NE(r.output.find("backend 'nosuch' is not compiled into this chipcast (compiled: openmp"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "summary.json"));
}

// Issue 14, item 4: a run whose tallies cannot fit was killed by the kernel
// with no message (horizon 3026 at dt 0.01, or --threads 10000); it is now a
// config error naming horizon, dt and threads before anything is allocated.
TEST(CliRun, RunThatCannotFitInMemoryIsRefusedBeforeItStarts) {
  ScratchDir dir("memory");
  const std::string cfg = (dir / "long.toml").string();
  write_text(cfg, "extends = \"" + kMinimalToml + "\"\n[run]\nhorizon_year = 3026.0\ndt = 0.01\n");
  auto r = run_chipcast("run " + cfg + " -q -n 100 --threads 2 --out " + (dir / "o").string());
  EXPECT_EQ(r.status, 2) << r.output;
  for (const char* part : {"100000 periods", "horizon_year 3026", "start_year 2026", "dt 0.01", "2 threads",
                           "half of this machine's memory"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << " in " << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o"));
  // The limit can be set: the minimal scenario's ~37 MiB of tallies do not fit in 1 MiB.
  r = run_chipcast("run " + kMinimalToml + " -q -n 100 --memory-limit 0.001 --out " + (dir / "p").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("the memory limit given"), std::string::npos) << r.output;
  r = run_chipcast("run " + kMinimalToml + " -q -n 100 --memory-limit 1 --out " + (dir / "p").string());
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
}  // namespace chipcast
