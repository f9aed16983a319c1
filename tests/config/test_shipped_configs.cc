// The shipped configs: every number carries a source comment; the 2023 hindcast and the 2022-start calibrated forecast load and take their observations.
#include <gtest/gtest.h>

#include <algorithm>
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

// The key = value lines of a config (comments and inline comments dropped, whitespace trimmed),
// each prefixed by the table header it sits under, from the first line that starts with `from`.
std::vector<std::string> key_lines(const std::string& text, const std::string& from = "") {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string table;
  bool on = from.empty();
  for (std::string l; std::getline(in, l);) {
    std::string s = trim(l);
    if (!on && s.rfind(from, 0) == 0) on = true;
    const auto hash = s.find('#');
    if (hash != std::string::npos) s = trim(s.substr(0, hash));
    if (!on || s.empty()) continue;
    if (s[0] == '[') {
      table = s;
      out.push_back(s);
    } else {
      out.push_back(table + " " +
                    std::regex_replace(s, std::regex(R"(\s*=\s*)"), " = ", std::regex_constants::format_first_only));
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// calibrated.toml is the baseline's model started at 2022.0 (dt and horizon as the baseline), with
// no stocks at the start, the baseline's long-run inputs unchanged key by key, and the baseline's
// correlations, policy and shocks unchanged except one added event that returns every trajectory
// to status_quo at 2026.0; its header says the priors are wide on purpose.
TEST(ShippedConfigs, TheCalibratedForecastIsTheBaselineStartedIn2022) {
  const std::string path = kSourceDir + "/configs/calibrated.toml";
  const std::string base_path = kSourceDir + "/configs/baseline.toml";
  const auto s = load_scenario(path);
  const auto b = load_scenario(base_path);
  EXPECT_EQ(s->run.start_year, 2022.0);
  EXPECT_EQ(s->run.dt, b->run.dt);
  EXPECT_EQ(s->run.horizon_year, b->run.horizon_year);
  const std::string text = read_text(path);
  EXPECT_NE(text.substr(0, 1400).find("DELIBERATELY WIDE"), std::string::npos);
  const auto mine = key_lines(text);
  EXPECT_TRUE(contains(mine, "[domestic] die_stock0 = 0.0"));
  EXPECT_TRUE(contains(mine, "[domestic] hbm_stock0 = 0.0"));
  const auto base = key_lines(read_text(base_path));
  for (const char* bloc : {"[domestic] ", "[foreign] "})
    for (const char* key :
         {"wafer_growth_long", "wafer_vol", "wafer_cap", "dies_per_wafer", "yield_max", "learning_rate", "yield_noise",
          "hbm_growth_long", "hbm_vol", "hbm_per_chip_growth_long", "packaging_growth_long"}) {
      std::string line;
      for (const auto& l : base)
        if (l.rfind(std::string(bloc) + key + " = ", 0) == 0) line = l;
      ASSERT_FALSE(line.empty()) << bloc << key;
      EXPECT_TRUE(contains(mine, line)) << "calibrated.toml differs from the baseline in: " << line;
    }
  for (const char* line : {"[domestic] perf_lag_drift", "[foreign] perf_growth_long"}) {
    std::string want;
    for (const auto& l : base)
      if (l.rfind(std::string(line) + " = ", 0) == 0) want = l;
    ASSERT_FALSE(want.empty()) << line;
    EXPECT_TRUE(contains(mine, want)) << want;
  }
  std::vector<std::string> tail = key_lines(text, "[[correlations]]");
  const std::vector<std::string> reset = {"[[policy.events]]", "[[policy.events]] at = 2026.0",
                                          "[[policy.events]] regime = \"status_quo\"",
                                          "[[policy.events]] probability = 1.0"};
  const auto at = std::search(tail.begin(), tail.end(), reset.begin(), reset.end());
  ASSERT_NE(at, tail.end()) << "no reset event at 2026.0";
  tail.erase(at, at + static_cast<std::ptrdiff_t>(reset.size()));
  EXPECT_EQ(tail, key_lines(read_text(base_path), "[[correlations]]"));
}

// Its observations: history.toml's 11 metric entries (units, compute, memory; 2022-2026), each
// copied as it is, and none of its 7 supply entries; they lie in its simulated years.
TEST(ShippedConfigs, TheCalibratedObservationsAreHistorysMetricEntries) {
  const auto obs = load_observations_file(kSourceDir + "/configs/observations/calibrated.toml");
  const auto history = load_observations_file(kSourceDir + "/configs/observations/history.toml");
  ASSERT_EQ(history.size(), 18u);
  size_t metrics = 0;
  for (const Observation& h : history) {
    const bool metric = h.quantity == ObservedQuantity::units || h.quantity == ObservedQuantity::compute ||
                        h.quantity == ObservedQuantity::memory;
    bool found = false;
    for (const Observation& o : obs)
      found = found || (o.label() == h.label() && o.value == h.value && o.sd_log == h.sd_log && o.source == h.source);
    EXPECT_EQ(found, metric) << h.label() << (metric ? " of history.toml is not copied as it is" : " is copied");
    metrics += metric ? 1 : 0;
  }
  EXPECT_EQ(metrics, 11u);
  EXPECT_EQ(obs.size(), metrics);
  const auto s = load_scenario(kSourceDir + "/configs/calibrated.toml");
  EXPECT_NO_THROW(check_observation_years(obs, s->run, s->path));
}

// calibrate on a small run of calibrated.toml with its observations writes prior/ and
// calibration.json: the 11 observations, each with a prior percentile strictly inside (0, 1) (the
// prior predictive check of configs/README.md), and every drawn parameter; posterior/ exists
// exactly when something was accepted (exit 0), else exit 5.
TEST(ShippedConfigs, CalibrateOnASmallCalibratedRunWritesPriorAndCalibration) {
  ScratchDir dir("calibrated");
  const std::string out = (dir / "cal").string();
  const auto r = run_chipcast("calibrate " + kSourceDir + "/configs/calibrated.toml --observations " + kSourceDir +
                              "/configs/observations/calibrated.toml -n 20000 --seed 1 --quiet --out " + out);
  ASSERT_TRUE(r.status == 0 || r.status == 5) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "cal" / "prior" / "summary.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "cal" / "prior" / "annual.csv"));
  const auto j = nlohmann::json::parse(read_text(dir / "cal" / "calibration.json"));
  EXPECT_EQ(j["trajectories"], 20000);
  const uint64_t accepted = j["accepted"];
  EXPECT_EQ(r.status == 0, accepted > 0);
  EXPECT_EQ(std::filesystem::exists(dir / "cal" / "posterior"), accepted > 0);
  ASSERT_EQ(j["observations"].size(), 11u);
  for (const auto& o : j["observations"]) {
    const double pct = o["prior"]["percentile"];
    EXPECT_GT(pct, 0.02) << o.dump();
    EXPECT_LT(pct, 0.98) << o.dump();
  }
  std::vector<std::string> names;
  for (const auto& p : j["parameters"]) names.push_back(p["name"]);
  for (const char* name : {"domestic.wafers0", "domestic.hbm_growth", "domestic.growth_halflife",
                           "foreign.wafer_growth", "foreign.packaging0", "shocks.taiwan_strait_disruption.rate"})
    EXPECT_TRUE(contains(names, name)) << name;
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
