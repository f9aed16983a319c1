// Config messages stay readable whatever the input: limits written short, long lists of names cut (issue 14, item 6).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "host/config/config_diagnostics.h"
#include "host/config/limit_text.h"
#include "tests/support/scenario_files.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kMinimalToml;

TEST(LimitText, TypeLimitsArePowersOfTwoAndSmallNumbersAreExact) {
  using config::limit_text;
  EXPECT_EQ(limit_text(INT64_MAX), "2^63 - 1");
  EXPECT_EQ(limit_text(INT64_MIN), "-2^63");
  EXPECT_EQ(limit_text(int64_t{1} << 40), "2^40");
  EXPECT_EQ(limit_text((int64_t{1} << 34) - 1), "2^34 - 1");
  // Up to 10 digits in full, powers of two included (4294967295 is 2^32 - 1).
  EXPECT_EQ(limit_text(4294967295), "4294967295");
  EXPECT_EQ(limit_text(9999999999), "9999999999");
  EXPECT_EQ(limit_text(0), "0");
  EXPECT_EQ(limit_text(-12), "-12");
  EXPECT_EQ(limit_text(12345678901), "about 1.23e+10");
  EXPECT_EQ(config::real_limit_text(1.7976931348623157e308), "1.8e+308");
  EXPECT_EQ(config::real_limit_text(1e8), "1e+08");
}

TEST(NameList, CutsAfterTheFirstNamesAndCountsTheRest) {
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("n" + std::to_string(i));
  EXPECT_EQ(config::name_list(names, 3), "n0, n1, n2, ... and 9 more");
  EXPECT_EQ(config::name_list(std::vector<std::string>(names.begin(), names.begin() + 3), 3), "n0, n1, n2");
  EXPECT_EQ(config::name_list({}, 3), "");
}

class ConfigMessages : public testing::ScenarioFileTest {};

// A thousand regimes gave a 6 KB message listing every one.
TEST_F(ConfigMessages, ThousandRegimesGiveAOneLineMessage) {
  std::string text = "extends = \"" + kMinimalToml + "\"\n[policy]\ninitial = \"r0000\"\n";
  for (int i = 0; i < 1000; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "r%04d", i);
    text += std::string("[policy.regimes.") + name + "]\n";
  }
  const std::string msg = error_of(write("many.toml", text));
  EXPECT_NE(msg.find("1000 regimes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("r0000, r0001"), std::string::npos) << msg;
  EXPECT_NE(msg.find("... and 990 more"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("r0999"), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 400u) << msg;
}

// The int64 limit of run.seed was printed as 9223372036854775807.
TEST_F(ConfigMessages, IntegerRangesAreWrittenShort) {
  const std::string msg = error_of(write("seed.toml", "extends = \"" + kMinimalToml + "\"\n[run]\nseed = -1\n"));
  EXPECT_NE(msg.find("run.seed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("an integer in [0, 2^63 - 1]"), std::string::npos) << msg;
}

}  // namespace
}  // namespace chipcast
