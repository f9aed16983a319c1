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

// Found by tests/fuzz/fuzz_config: toml++ 3.3 reaches TOML_UNREACHABLE (undefined behaviour;
// UBSan stops there) when it tests U+00A1..U+0499 for white space, as it does for a character
// where a value or white space is expected, and after a line-ending backslash in a multi-line
// string. Such characters are invalid TOML outside strings and comments anyway.
TEST(TomlLimits, NonAsciiOutsideStringsAndCommentsIsRefused) {
  // The fuzzer's reproducer (crash-14f80e79...), shortened: U+02D9 where a value is expected.
  EXPECT_NE(toml_limit_violation("extends = \xcb\x99s = \"fuzz.toml\"\n")
                .find("line 1: a non-ASCII character outside a string or comment"),
            std::string::npos);
  EXPECT_NE(toml_limit_violation("x = 1\n\xc3\xa9 = 2\n").find("line 2:"), std::string::npos);
  EXPECT_NE(toml_limit_violation("s = \"\"\"a \\\n  \xc3\xa9t\xc3\xa9\"\"\"\n").find("line-ending backslash"),
            std::string::npos);
  // Everywhere TOML allows them they pass: comments, every kind of string, after a BOM, and
  // after a line-ending backslash once an ASCII character comes first.
  EXPECT_EQ(toml_limit_violation("\xEF\xBB\xBFx = 1 # Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale \xe2\x80\x94\n"),
            "");
  EXPECT_EQ(toml_limit_violation("s = \"\xc3\xa9\"\nt = '\xc3\xa9'\nu = '''\xc3\xa9'''\nv = \"\"\"\xc3\xa9\"\"\"\n"),
            "");
  EXPECT_EQ(toml_limit_violation("s = \"\"\"a \\\n  x\xc3\xa9\"\"\"\n"), "");
}

// Found by tests/fuzz/fuzz_config (seed 11, 150 s): toml++ 3.3 reads a value that starts with a
// digit, '+' or '-' ahead to the next value terminator, quotes included, and tests the character
// after a backslash in a multi-line string for white space; either reached U+048B. Both are
// invalid TOML.
TEST(TomlLimits, NonAsciiThatTomlReadsAheadIsRefused) {
  // The reproducer (crash-f1abfe99...), shortened: U+048B 22 characters after the '-'.
  const std::string repro = "extends = -\"taiwaextend\"baseline.toml\"\xd2\x8bo\n";
  EXPECT_NE(toml_limit_violation(repro).find("line 1: a non-ASCII character after a number"), std::string::npos)
      << toml_limit_violation(repro);
  for (const char* bad : {"x = 1\"\xd2\x8b\"\n", "x = +\"\xc3\xa9\"\n", "x = 1979-05-27T07:32:00\"\xd2\x8b\"\n",
                          "x = [\n  2,\n  3\"\xc3\xa9\"]\n"})
    EXPECT_NE(toml_limit_violation(bad).find("after a number with no white space"), std::string::npos) << bad;
  EXPECT_NE(toml_limit_violation("x = 1\ny = 2\"\xc3\xa9\"\n").find("line 2:"), std::string::npos);
  for (const char* bad : {"s = \"\"\"\\\xc3\xa9\"\"\"\n", "s = \"\"\"a\\  \xd2\x8b\"\"\"\n"})
    EXPECT_NE(toml_limit_violation(bad).find("right after a backslash in a multi-line string"), std::string::npos)
        << bad;
  // A separator before the string, or the number too far back for toml++'s look-ahead: passes.
  for (const char* good : {"x = 1 # \xc3\xa9\n", "x = [1, \"\xc3\xa9\"]\n", "x = {a = -1,b = \"\xc3\xa9\"}\n",
                           "x = -1\ns = \"\xc3\xa9\"\n", "x = [1]\ns = \"\xc3\xa9\"\n", "s = \"\\u00e9 \xc3\xa9\"\n"})
    EXPECT_EQ(toml_limit_violation(good), "") << good;
  // toml++ reads at most 128 code points from the number's start: the window is as long.
  const auto at = [](size_t filler) { return "k = 1\"" + std::string(filler, 'x') + "\xc3\xa9\"\n"; };
  EXPECT_NE(toml_limit_violation(at(125)).find("after a number"), std::string::npos);  // at code point 127
  EXPECT_EQ(toml_limit_violation(at(126)), "");                                        // at code point 128
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
