// The shipped configs: every number carries a source comment; the 2023 hindcast loads and is scored on its observations.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "host/config/observations.h"
#include "host/config/scenario.h"
#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

using testing::kSourceDir;
using testing::read_text;
using testing::run_chipcast;
using testing::ScratchDir;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A key line's value with its string literals removed, so a '#' or a digit inside a
// source string neither counts as a comment nor asks for one.
std::string without_strings(const std::string& value) {
  return std::regex_replace(value, std::regex("\"[^\"]*\""), "");
}

// configs/README.md's rule, "every number in a config has its source in a comment on its line or
// the line above", made checkable. A key whose value holds a digit needs a comment on its line or
// on the line just above. Inside an array-of-tables entry ([[observations]], [[correlations]],
// [[shocks]], ...) the entry is one sourced unit, so its comment may sit anywhere above in the
// same paragraph of that array (keys and headers of the same array, up to a blank line).
// Returns "line N: text" for each number without one.
std::vector<std::string> unsourced_numbers(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const std::regex key(R"(^([A-Za-z0-9_."-]+)\s*=\s*(.*)$)");
  const std::regex array_header(R"(^\[\[([^\]]+)\]\])");
  std::vector<std::string> bad;
  std::string array;  // the array-of-tables the current entry belongs to ("" in a plain table)
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string s = trim(lines[i]);
    std::smatch m;
    if (s.rfind("[", 0) == 0) {
      array = std::regex_search(s, m, array_header) ? m[1].str() : "";
      continue;
    }
    if (s.empty() || s[0] == '#' || !std::regex_match(s, m, key)) continue;
    const std::string value = without_strings(m[2].str());
    if (value.find('#') != std::string::npos) continue;                    // inline comment
    if (value.find_first_of("0123456789") == std::string::npos) continue;  // no number
    bool ok = i > 0 && trim(lines[i - 1]).rfind("#", 0) == 0;
    for (size_t j = i; !ok && !array.empty() && j-- > 0;) {
      const std::string t = trim(lines[j]);
      std::smatch h;
      if (t.empty()) break;
      if (t[0] == '#') {
        ok = true;
      } else if (t[0] == '[' && !(std::regex_search(t, h, array_header) && h[1].str() == array)) {
        break;  // another table: its comments are not this entry's
      }
    }
    if (!ok) bad.push_back("line " + std::to_string(i + 1) + ": " + s);
  }
  return bad;
}

std::vector<std::string> shipped_files() {
  std::vector<std::string> files;
  for (const char* dir : {"/configs", "/configs/observations"})
    for (const auto& e : std::filesystem::directory_iterator(kSourceDir + dir))
      if (e.path().extension() == ".toml") files.push_back(e.path().string());
  return files;
}

// The checker itself can fail: a number with no comment, a comment two keys up in a plain
// table, and an entry of one array leaning on another table's comment are each flagged.
TEST(ShippedConfigs, TheSourceCheckFlagsNumbersWithoutAComment) {
  EXPECT_TRUE(unsourced_numbers("[a]\n# src\nx = 1\ny = 2 # src\nz = \"no number\"\n").empty());
  EXPECT_EQ(unsourced_numbers("[a]\n# src\nx = 1\ny = 2\n").size(), 1u);  // y: the comment is x's
  EXPECT_EQ(unsourced_numbers("[a]\nx = { median = 3 }\n").size(), 1u);
  EXPECT_TRUE(unsourced_numbers("# src\n[[c]]\na = \"p\"\nrank = 0.6\n[[c]]\nrank = 0.5\n").empty());
  EXPECT_EQ(unsourced_numbers("[t]\n# src\n[[c]]\nrank = 0.6\n").size(), 0u);
  EXPECT_EQ(unsourced_numbers("# src\n[t]\nk = 1\n[[c]]\nrank = 0.6\n").size(), 2u);
  EXPECT_EQ(unsourced_numbers("[a]\ns = \"FT, Feb 2025 # x\"\nv = 4\n").size(), 1u);
}

// Every shipped scenario and observations file (baseline and its scenarios, the 2023 hindcast,
// history.toml and the hindcast's observations) passes it.
TEST(ShippedConfigs, EveryNumberCarriesASourceComment) {
  const auto files = shipped_files();
  ASSERT_GE(files.size(), 8u);
  bool saw_hindcast = false;
  for (const auto& f : files) {
    saw_hindcast = saw_hindcast || f.find("hindcast_2023.toml") != std::string::npos;
    const auto bad = unsourced_numbers(read_text(f));
    std::string list;
    for (const auto& b : bad) list += "\n  " + b;
    EXPECT_TRUE(bad.empty()) << f << ": numbers without a source comment:" << list;
  }
  EXPECT_TRUE(saw_hindcast);
}

// The hindcast starts 2023.0 on whole quarters (so 2023-2059 are whole calendar years) and says
// at the top that no fact later than early 2023 informs a prior.
TEST(ShippedConfigs, TheHindcastStartsIn2023WithEarly2023Priors) {
  const std::string path = kSourceDir + "/configs/hindcast_2023.toml";
  const auto s = load_scenario(path);
  EXPECT_EQ(s->run.start_year, 2023.0);
  EXPECT_EQ(s->run.dt, 0.25);  // as baseline.toml
  EXPECT_EQ(load_scenario(kSourceDir + "/configs/baseline.toml")->run.dt, s->run.dt);
  const std::string head = read_text(path).substr(0, 1200);
  EXPECT_NE(head.find("No later fact"), std::string::npos) << head;
  EXPECT_NE(head.find("Q1 2023"), std::string::npos) << head;
}

// Its observations: the 10 entries of history.toml that score takes for a 2023 start (a metric
// of domestic, foreign or ratio in 2023-2026), each with its source; they lie in the hindcast's
// simulated years.
TEST(ShippedConfigs, TheHindcastObservationsAreTheTenScorableHistoryEntries) {
  const auto obs = load_observations_file(kSourceDir + "/configs/observations/hindcast_2023.toml");
  ASSERT_EQ(obs.size(), 10u);
  const auto history = load_observations_file(kSourceDir + "/configs/observations/history.toml");
  size_t scorable = 0;
  for (const Observation& h : history) {
    const bool metric = h.quantity == ObservedQuantity::units || h.quantity == ObservedQuantity::compute ||
                        h.quantity == ObservedQuantity::memory;
    if (!metric || h.year < 2023) continue;
    ++scorable;
    bool found = false;
    for (const Observation& o : obs)
      found = found || (o.label() == h.label() && o.value == h.value && o.sd_log == h.sd_log && o.source == h.source);
    EXPECT_TRUE(found) << h.label() << " of history.toml is not copied as it is";
  }
  EXPECT_EQ(scorable, obs.size());
  const auto s = load_scenario(kSourceDir + "/configs/hindcast_2023.toml");
  EXPECT_NO_THROW(check_observation_years(obs, s->run, s->path));
}

// A small run of the hindcast has calendar-year totals, and score takes all 10 observations
// (and refuses history.toml as a whole: its 2022 entry lies before the run).
TEST(ShippedConfigs, ScoreOnASmallHindcastRunTakesItsTenObservations) {
  ScratchDir dir("hindcast");
  const std::string run_dir = (dir / "h23").string();
  auto r = run_chipcast("run " + kSourceDir + "/configs/hindcast_2023.toml -n 4000 --seed 1 --quiet --out " + run_dir);
  ASSERT_EQ(r.status, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir / "h23" / "summary.json"));
  EXPECT_FALSE(summary["annual"].is_null());
  r = run_chipcast("score " + run_dir + " --observations " + kSourceDir + "/configs/observations/hindcast_2023.toml");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("10 observations"), std::string::npos) << r.output;
  const auto score = nlohmann::json::parse(read_text(dir / "h23" / "score" / "score.json"));
  EXPECT_EQ(score["totals"]["observations"], 10);
  EXPECT_EQ(score["observations"].size(), 10u);
  r = run_chipcast("score " + run_dir + " --observations " + kSourceDir + "/configs/observations/history.toml");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("2022"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace chipcast
