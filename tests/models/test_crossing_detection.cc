// Crossing detection on hostile log ratios: every candidate bin stays inside the period's bins.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "models/parity/crossing_detection.h"
#include "tests/support/cli_runner.h"

namespace chipcast {
namespace {

using parity::CrossingRule;
using parity::LaneState;
using parity::LogRatio;

// Period k-1 leaves `prev_log_r` (as a NaN ratio does: crossing_run keeps
// its log ratio whatever it is), then period k is above the threshold: the
// run starts, and crossing_candidate dates it (as metric_step's two loops do).
void candidate_after(float prev_log_r, int k, const CrossingRule& rule, int& bin, float& t) {
  LaneState<1> s;
  parity::reset_crossing(0, s);
  s.prev_log_r[0][0] = prev_log_r;
  parity::CrossingStart<1> c;
  parity::crossing_run(0, 0, rule, LogRatio(0.0f, -1.0f), s, c);  // r = e > threshold 1
  ASSERT_EQ(c.starts[0], 1);
  parity::crossing_candidate(0, 0, k, 0.25f, rule, c, s);
  bin = s.cand_bin[0][0];
  t = s.cand_t[0][0];
}

// Issue 14: a NaN interpolation fraction became int(ceilf(NaN)) - 1, an index
// near INT_MIN (undefined behaviour; SIGSEGV in the OpenMP backend).
TEST(CrossingDetection, NanOrInfinitePreviousRatioGivesABinInTheCrossingPeriod) {
  const CrossingRule rule{0.0f, 25, 1};
  const int k = 5;
  for (const float prev : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity()}) {
    int bin = -1;
    float t = -1;
    candidate_after(prev, k, rule, bin, t);
    EXPECT_GE(bin, k * rule.sub) << "previous log ratio " << prev;
    EXPECT_LT(bin, (k + 1) * rule.sub) << "previous log ratio " << prev;
    EXPECT_TRUE(std::isfinite(t)) << "previous log ratio " << prev;
    EXPECT_GE(t, k * 0.25f);
    EXPECT_LE(t, (k + 1) * 0.25f);
  }
  // An ordinary previous ratio below the threshold interpolates as before.
  int bin = -1;
  float t = -1;
  candidate_after(-1.0f, k, rule, bin, t);  // log r from -1 to +1 crosses 0 half-way
  EXPECT_EQ(bin, k * rule.sub + rule.sub / 2);
  EXPECT_FLOAT_EQ(t, (k + 0.5f) * 0.25f);
}

// The reproducer end to end: a config that validates (growth 1e39,
// an infinite cap, noise 1e300) ran off the tally and crashed (exit 139).
TEST(CrossingDetection, HostileButValidConfigRunsToTheEnd) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("chipcast_crossing_nan_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string minimal = std::string(CHIPCAST_SOURCE_DIR) + "/tests/config/data/minimal.toml";
  {
    std::ofstream f(dir / "nan.toml");
    f << "extends = \"" << minimal << "\"\n[domestic]\nwafer_growth = 1e39\nwafer_cap = inf\nyield_noise = 1e300\n";
  }
  const testing::CommandResult r = testing::run_chipcast(
      "run " + (dir / "nan.toml").string() + " -n 1000 --threads 2 --quiet --out " + (dir / "out").string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "summary.json")) << r.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chipcast
