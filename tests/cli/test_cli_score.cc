// `chipcast score RUN_DIR`: the re-run, score.json/score.csv as one output set, and its refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::read_text;
using testing::run_chipcast;
using testing::ScratchDir;
using testing::write_text;

// x in shortest round-trip form (to_string's fixed 6 decimals would lose small ratios).
std::string exact(double x) {
  std::ostringstream o;
  o.precision(17);
  o << x;
  return o.str();
}

std::string obs(int year, const std::string& bloc, const std::string& metric, const std::string& value) {
  return "[[observations]]\nyear = " + std::to_string(year) + "\nbloc = \"" + bloc + "\"\nmetric = \"" + metric +
         "\"\n" + value + "\nsource = \"synthetic, for the test\"\n";
}

// A row's q50 of annual.csv (columns metric,series,year,q05,q25,q50,...).
double annual_q50(const std::string& csv, const std::string& metric, const std::string& series, int year) {
  std::istringstream in(csv);
  std::string line;
  const std::string key = metric + "," + series + "," + std::to_string(year) + ",";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) {
      std::istringstream f(line.substr(key.size()));
      double q05, q25, q50;
      char c;
      f >> q05 >> c >> q25 >> c >> q50;
      return q50;
    }
  return NAN;
}

class CliScore : public ::testing::Test {
 protected:
  ScratchDir dir{"score"};
  std::string run_dir = (dir / "r").string();
  void SetUp() override {
    const auto r = run_chipcast("run " + testing::kMinimalToml + " -n 41 --seed 5 --quiet --out " + run_dir);
    ASSERT_EQ(r.status, 0) << r.output;
  }
};

// The re-run is the same run: with 41 trajectories and sd_log 1e-4 (well
// inside a 0.023-wide bin) the predictive CDF is the sample's step function,
// so an observation at the original run's annual.csv q50 (the 21st smallest
// total, interpolated inside its bin) has a PIT within [20/41, 21/41], widened
// by one trajectory each side for a neighbour sharing its bin; four such rows.
// (Another seed's sample puts that PIT at 1/2 +- 0.08.) Then one and two
// threads give the same bytes, and the run's own files are left alone.
TEST_F(CliScore, WritesScoreJsonAndCsvFromTheSameRun) {
  const std::string annual = read_text(dir / "r" / "annual.csv");
  struct Row {
    int year;
    std::string bloc, metric, series;
  };
  const Row rows[] = {{2027, "domestic", "units", "domestic"},
                      {2030, "domestic", "units", "domestic"},
                      {2029, "foreign", "memory", "foreign"},
                      {2031, "ratio", "compute", "ratio"}};
  std::string body;
  for (const Row& r : rows) {
    const double q50 = annual_q50(annual, r.metric, r.series, r.year);
    ASSERT_TRUE(std::isfinite(q50)) << r.year;
    body += obs(r.year, r.bloc, r.metric, "value = " + exact(q50) + "\nsd_log = 1e-4");
  }
  body += obs(2028, "ratio", "compute", "low = 0.02\nhigh = 0.2");
  write_text(dir / "obs.toml", body);
  const auto r1 = run_chipcast("score " + run_dir + " --observations " + (dir / "obs.toml").string() + " --threads 1");
  ASSERT_EQ(r1.status, 0) << r1.output;
  EXPECT_NE(r1.output.find("5 observations"), std::string::npos) << r1.output;
  const std::string csv1 = read_text(dir / "r" / "score" / "score.csv");
  const std::string json1 = read_text(dir / "r" / "score" / "score.json");
  const auto j = nlohmann::json::parse(json1);
  ASSERT_EQ(j["observations"].size(), 5u);
  EXPECT_EQ(j["totals"]["observations"], 5);
  EXPECT_EQ(j["trajectories"], 41);
  for (int i = 0; i < 4; ++i) {
    const double pit = j["observations"][i]["pit"];
    EXPECT_GE(pit, 19.0 / 41) << i;
    EXPECT_LE(pit, 22.0 / 41) << i;
  }
  EXPECT_EQ(std::count(csv1.begin(), csv1.end(), '\n'), 6) << csv1;

  const auto r2 =
      run_chipcast("score " + run_dir + " --observations " + (dir / "obs.toml").string() + " --threads 2 --quiet");
  ASSERT_EQ(r2.status, 0) << r2.output;
  EXPECT_EQ(read_text(dir / "r" / "score" / "score.csv"), csv1);
  EXPECT_EQ(read_text(dir / "r" / "score" / "score.json"), json1);
  EXPECT_EQ(read_text(dir / "r" / "annual.csv"), annual);
}

// Refusals, exit 2 and nothing written: a year the run does not simulate in
// full (naming file, key and value), another key in an --observations file,
// a folder that is not a run's. (A supply quantity is scored through a
// calibrate-like re-run: test_cli_calibrate.cc.)
TEST_F(CliScore, RefusesWhatItCannotScore) {
  const std::string file = (dir / "bad.toml").string();
  write_text(file, obs(2040, "domestic", "units", "value = 2e5\nsd_log = 0.3"));
  auto r = run_chipcast("score " + run_dir + " --observations " + file);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(file), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("observations[0].year"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2040"), std::string::npos) << r.output;

  write_text(file, "[run]\nseed = 3\n" + obs(2027, "domestic", "units", "value = 2e5\nsd_log = 0.3"));
  r = run_chipcast("score " + run_dir + " --observations " + file);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("run"), std::string::npos) << r.output;

  write_text(file, obs(2027, "domestic", "wafers", "value = 2e4\nsd_log = 0.3"));
  r = run_chipcast("score " + dir.path().string() + " --observations " + file);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("resolved.toml"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "r" / "score"));
}

}  // namespace
}  // namespace chipcast
