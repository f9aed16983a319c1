// Tests of host/report: output files, their exact headers and fields, determinism, atomic writes, headline.
#include "host/report/report.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include "host/run/build_isa.h"
#include "tests/support/cli_runner.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace chipcast {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) { return testing::read_text(p); }

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

// A fresh folder under the test temp dir, removed afterwards.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("chipcast_report_" + std::to_string(::getpid()) + "_" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);

    scenario_.path = "configs/test.toml";
    scenario_.run.start_year = 2026.0;
    scenario_.run.horizon_year = 2060.0;
    scenario_.run.dt = 8.5;  // 4 periods keep the files small
    scenario_.run.seed = 42;
    scenario_.run.trajectories = 100;
    scenario_.resolved_toml = "[run]\nseed = 42\ntrajectories = 100\n";
    scenario_.sha256 = "abc123";
    scenario_.warnings = {"a warning"};

    // units: 60 of 100 cross (median in period 1, q95 after the horizon);
    // compute: none; memory: all in the first bin.
    Tally t(4, 850);
    t.trajectories = 100;
    auto row = [&](int m) { return t.crossing.data() + static_cast<size_t>(m) * t.shape.crossing_bins(); };
    const int censored = t.shape.crossing_bins() - 1;
    row(0)[10] = 10;
    row(0)[900] = 50;
    row(0)[censored] = 40;
    row(1)[censored] = 100;
    row(2)[0] = 100;
    for (int k = 0; k < 4; ++k)
      for (int s = 0; s < kNumSeries; ++s)
        t.level[(static_cast<size_t>(k) * kNumSeries + s) * kLevelBins + kBinFirstRegular + 1200 + 10 * k] = 100;
    // An infinite ratio at the last period of units.
    t.level[(static_cast<size_t>(3) * kNumSeries + 0) * kLevelBins + kBinFirstRegular + 1230] = 0;
    t.level[(static_cast<size_t>(3) * kNumSeries + 0) * kLevelBins + kBinInfinite] = 100;
    summary_ = summarize(t, scenario_.run);

    info_.backend = "openmp";
    info_.backend_detail = "16 threads";
    info_.version = "0.1.0";
    info_.seconds = 1.5;
    info_.started_utc = "2026-01-01T00:00:00Z";
    info_.command_line = "chipcast run configs/test.toml";
    info_.ranks = 1;
    info_.threads = 16;
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  Scenario scenario_;
  Summary summary_;
  RunInfo info_;
};

TEST_F(ReportTest, WritesAllFilesWithExactHeaders) {
  const fs::path out = root_ / "nested" / "out";  // created on demand
  write_outputs(out, scenario_, summary_, info_);
  for (const char* name : {"summary.json", "crossing.csv", "bands.csv", "resolved.toml"})
    EXPECT_TRUE(fs::is_regular_file(out / name)) << name;
  EXPECT_EQ(slurp(out / "resolved.toml"), scenario_.resolved_toml);

  const auto crossing = lines_of(slurp(out / "crossing.csv"));
  ASSERT_EQ(crossing.size(), 1u + 3 * 4);
  EXPECT_EQ(crossing[0], "metric,year,p_crossed,stderr,lo95,hi95");
  EXPECT_EQ(crossing[1].rfind("units,2034.5000,0.1,", 0), 0u) << crossing[1];
  EXPECT_EQ(crossing[5].rfind("compute,2034.5000,0,0,0,", 0), 0u) << crossing[5];
  EXPECT_EQ(crossing[12].rfind("memory,2060.0000,1,0,", 0), 0u) << crossing[12];
  EXPECT_EQ(crossing[12].substr(crossing[12].size() - 2), ",1");

  const auto bands = lines_of(slurp(out / "bands.csv"));
  ASSERT_EQ(bands.size(), 1u + 9 * 4);
  EXPECT_EQ(bands[0], "metric,series,year,q05,q25,q50,q75,q95");
  EXPECT_EQ(bands[1].rfind("units,ratio,2034.5000,", 0), 0u) << bands[1];
  EXPECT_EQ(bands[4], "units,ratio,2060.0000,inf,inf,inf,inf,inf");
  EXPECT_EQ(bands[5].rfind("units,domestic,2034.5000,", 0), 0u) << bands[5];
  EXPECT_EQ(bands[36].rfind("memory,foreign,2060.0000,", 0), 0u) << bands[36];
}

TEST_F(ReportTest, SummaryJsonFields) {
  write_outputs(root_, scenario_, summary_, info_);
  const std::string text = slurp(root_ / "summary.json");
  EXPECT_EQ(text.rfind("{\n  \"trajectories\": 100,", 0), 0u) << text.substr(0, 60);  // pretty, 2-space
  const auto j = nlohmann::json::parse(text);
  for (const char* key : {"trajectories", "seed", "backend", "backend_detail", "config_sha256", "config_path",
                          "version", "seconds", "started_utc", "command_line", "ranks", "threads", "run", "metrics",
                          "anomalies", "notes", "warnings", "quantile_method"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["trajectories"], 100);
  EXPECT_EQ(j["seed"], 42);
  EXPECT_EQ(j["backend"], "openmp");
  EXPECT_EQ(j["config_sha256"], "abc123");
  EXPECT_EQ(j["config_path"], "configs/test.toml");
  EXPECT_EQ(j["version"], "0.1.0");
  EXPECT_EQ(j["threads"], 16);
  EXPECT_EQ(j["run"]["periods"], 4);
  EXPECT_EQ(j["run"]["dt"], 8.5);
  EXPECT_EQ(j["run"]["sustain"], 1);
  EXPECT_EQ(j["warnings"], nlohmann::json::array({"a warning"}));
  EXPECT_EQ(j["anomalies"]["nan_ratios"], 0);
  EXPECT_EQ(j["anomalies"]["nan_levels"], 0);
  EXPECT_EQ(j["anomalies"]["lost_precision"], 0);
  // dt = 8.5: no calendar years, so no annual.csv, and the reason.
  EXPECT_TRUE(j["annual"].is_null());
  EXPECT_NE(j["annual_reason"].get<std::string>().find("1/dt = 0.117647 is not a whole number"), std::string::npos)
      << j["annual_reason"];
  EXPECT_FALSE(fs::exists(root_ / "annual.csv"));
  EXPECT_TRUE(j["notes"].is_array());
  EXPECT_NE(j["quantile_method"].get<std::string>().find("upper edge"), std::string::npos);

  // The kernels' ISA. This test is compiled with the kernels' -march
  // (tests/CMakeLists.txt), so its own predefined macros are the oracle.
  ASSERT_TRUE(j.contains("isa"));
  const auto& features = j["isa"]["features"];
  auto has = [&](const char* f) { return std::find(features.begin(), features.end(), f) != features.end(); };
  EXPECT_EQ(j["isa"]["march"], build_isa().march);
#if defined(__x86_64__)
  EXPECT_EQ(j["isa"]["arch"], "x86_64");
  EXPECT_TRUE(has("sse2"));
#endif
#if defined(__AVX2__)
  EXPECT_TRUE(has("avx2"));
#else
  EXPECT_FALSE(has("avx2"));
#endif
#if defined(__AVX512F__)
  EXPECT_TRUE(has("avx512f"));
#else
  EXPECT_FALSE(has("avx512f"));
#endif

  const auto& units = j["metrics"]["units"];
  EXPECT_DOUBLE_EQ(units["p_parity_by_horizon"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(units["p_no_parity_by_horizon"].get<double>(), 0.4);
  EXPECT_NEAR(units["p_parity_by_horizon_stderr"].get<double>(), std::sqrt(0.6 * 0.4 / 100), 1e-15);
  EXPECT_NEAR(units["crossing_year"]["q05"].get<double>(), 2026.11, 1e-9);        // bin 10 upper edge
  EXPECT_NEAR(units["crossing_year"]["q50"].get<double>(), 2026.0 + 9.01, 1e-9);  // bin 900
  EXPECT_TRUE(units["crossing_year"].contains("q95"));
  EXPECT_TRUE(units["crossing_year"]["q95"].is_null());
  const auto& compute = j["metrics"]["compute"]["crossing_year"];
  EXPECT_TRUE(compute["q05"].is_null());
  EXPECT_TRUE(compute["q50"].is_null());
  EXPECT_TRUE(compute["q95"].is_null());
  EXPECT_FALSE(j["metrics"]["memory"]["crossing_year"]["q95"].is_null());
}

TEST_F(ReportTest, SameInputsGiveByteIdenticalFiles) {
  write_outputs(root_ / "a", scenario_, summary_, info_);
  write_outputs(root_ / "b", scenario_, summary_, info_);
  write_outputs(root_ / "a", scenario_, summary_, info_);  // overwrite in place
  for (const char* name : {"summary.json", "crossing.csv", "bands.csv", "resolved.toml"})
    EXPECT_EQ(slurp(root_ / "a" / name), slurp(root_ / "b" / name)) << name;
}

TEST_F(ReportTest, AtomicWriteLeavesNoTemporaryFile) {
  write_outputs(root_, scenario_, summary_, info_);
  const fs::path p = root_ / "note.txt";
  write_file_atomic(p, "first\n");
  write_file_atomic(p, "second\n");
  EXPECT_EQ(slurp(p), "second\n");
  write_file_atomic(p, "");
  EXPECT_EQ(fs::file_size(p), 0u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"bands.csv", "crossing.csv", "note.txt", "resolved.toml", "summary.json"}));
}

TEST_F(ReportTest, FailuresNameThePath) {
  const fs::path missing = root_ / "no_such_folder" / "x.txt";
  try {
    write_file_atomic(missing, "x");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
  // Renaming onto an existing folder fails after the temporary file was written: it is removed.
  fs::create_directories(root_ / "taken" / "inside");
  EXPECT_THROW(write_file_atomic(root_ / "taken", "x"), std::runtime_error);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root_)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"taken"});
  // An output "folder" that is a file.
  write_file_atomic(root_ / "plain", "x");
  try {
    write_outputs(root_ / "plain", scenario_, summary_, info_);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((root_ / "plain").string()), std::string::npos) << e.what();
  }
}

TEST_F(ReportTest, HeadlineMentionsAfterHorizon) {
  const std::string h = headline(scenario_, summary_);
  const auto lines = lines_of(h);
  ASSERT_GE(lines.size(), 4u) << h;
  auto line_for = [&](const std::string& metric) {
    for (const auto& l : lines)
      if (l.rfind(metric + " ", 0) == 0) return l;
    return std::string();
  };
  const std::string units = line_for("units");
  EXPECT_NE(units.find("median 2035.01"), std::string::npos) << units;
  EXPECT_NE(units.find("2026.11"), std::string::npos) << units;
  EXPECT_NE(units.find("after 2060"), std::string::npos) << units;
  EXPECT_NE(units.find("P(no parity by 2060) = 0.40"), std::string::npos) << units;
  const std::string compute = line_for("compute");
  EXPECT_NE(compute.find("median after 2060"), std::string::npos) << compute;
  EXPECT_NE(compute.find("= 1.00"), std::string::npos) << compute;
  EXPECT_NE(line_for("memory").find("= 0.00"), std::string::npos) << h;
}

}  // namespace
}  // namespace chipcast
