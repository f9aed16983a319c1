// The pre-parse bounds on scenario files: hostile sizes, dotted keys and nesting are refused by name, never crash.
#include <gtest/gtest.h>

#include <string>

#include "host/config/scenario.h"
#include "host/config/toml_limits.h"
#include "tests/support/scenario_files.h"

namespace chipcast {
namespace {

using config::toml_limit_violation;
using config::TomlLimits;

std::string dotted(int parts) {
  std::string s = "a";
  for (int i = 1; i < parts; ++i) s += ".a";
  return s;
}

TEST(TomlLimits, CountsPartsOfKeysAndHeadersUpToTheLimit) {
  const TomlLimits lim;
  EXPECT_EQ(toml_limit_violation("[" + dotted(lim.max_key_parts) + "]\n", lim), "");
  EXPECT_NE(toml_limit_violation("[" + dotted(lim.max_key_parts + 1) + "]\n", lim), "");
  EXPECT_NE(toml_limit_violation("x = 1\n" + dotted(lim.max_key_parts + 1) + " = 1\n", lim).find("line 2:"),
            std::string::npos);
  // Quoted parts and spaces around the dots count like bare ones.
  std::string quoted = "\"q\"";
  for (int i = 1; i <= lim.max_key_parts; ++i) quoted += " . \"q\"";
  EXPECT_NE(toml_limit_violation(quoted + " = 1\n", lim), "");
  // Inline tables' keys too.
  EXPECT_NE(toml_limit_violation("t = { " + dotted(lim.max_key_parts + 1) + " = 1 }\n", lim), "");
}

TEST(TomlLimits, IgnoresDotsAndBracketsInStringsAndComments) {
  const std::string many_dots(10000, '.');
  const std::string many_brackets(10000, '[');
  EXPECT_EQ(toml_limit_violation("s = \"" + dotted(500) + many_brackets + "\"\n"), "");
  EXPECT_EQ(toml_limit_violation("s = '" + dotted(500) + "'\n"), "");
  EXPECT_EQ(toml_limit_violation("s = \"\"\"\n" + dotted(500) + "\n" + many_brackets + "\"\"\"\n"), "");
  EXPECT_EQ(toml_limit_violation("# " + dotted(500) + many_brackets + "\nx = 1.5e3\n"), "");
  EXPECT_EQ(toml_limit_violation("s = \"esc \\\" " + dotted(500) + "\"\n"), "");
  // Numbers and dates are not keys with many parts.
  EXPECT_EQ(toml_limit_violation("x = [1.5, 2.25, 1979-05-27T07:32:00.999]\n"), "");
}

TEST(TomlLimits, RefusesDeepNestingAndLargeFiles) {
  const TomlLimits lim;
  EXPECT_EQ(toml_limit_violation("x = " + std::string(lim.max_nesting, '[') + std::string(lim.max_nesting, ']')), "");
  const std::string deep = "x = " + std::string(lim.max_nesting + 1, '[') + std::string(lim.max_nesting + 1, ']');
  EXPECT_NE(toml_limit_violation(deep, lim).find("nested more than"), std::string::npos);
  TomlLimits small;
  small.max_bytes = 10;
  EXPECT_NE(toml_limit_violation("x = 12345678\n", small).find("more than the 10"), std::string::npos);
  EXPECT_EQ(toml_limit_violation("x = 1\n", small), "");
}

class TomlLimitsFileTest : public testing::ScenarioFileTest {};

// The reproducer: an 80 KB header of 40,000 parts crashed toml++ 3.3 (exit 139).
TEST_F(TomlLimitsFileTest, FortyThousandPartHeaderIsAConfigError) {
  const std::string path = write("deep.toml", "[" + dotted(40000) + "]\n");
  const std::string msg = error_of(path);
  EXPECT_EQ(msg.rfind(path + ": refused before parsing: line 1: a dotted key or table header", 0), 0u) << msg;
  const std::string key = write("deep_key.toml", dotted(40000) + " = 1\n");
  EXPECT_NE(error_of(key).find("parts"), std::string::npos);
  const std::string nest = write("nest.toml", "x = " + std::string(100000, '[') + "\n");
  EXPECT_NE(error_of(nest).find("nested more than 64 deep"), std::string::npos) << error_of(nest);
}

TEST_F(TomlLimitsFileTest, OversizedFileIsAConfigError) {
  const std::string path = write("big.toml", "# " + std::string(size_t{1} << 20, 'x') + "\n");
  EXPECT_NE(error_of(path).find("bytes, more than the 1048576 a scenario file may have"), std::string::npos);
}

TEST_F(TomlLimitsFileTest, ExtendsMustNameARegularFile) {
  std::filesystem::create_directories(dir_ / "parent_dir");
  const std::string child = write("child.toml", "extends = \"parent_dir\"\n");
  const std::string msg = error_of(child);
  EXPECT_EQ(msg.rfind(child + ": extends: \"parent_dir\"", 0), 0u) << msg;
  EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
  // A directory given as the scenario itself.
  EXPECT_NE(error_of((dir_ / "parent_dir").string()).find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace chipcast
