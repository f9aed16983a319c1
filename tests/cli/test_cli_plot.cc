// `chipcast plot` and `run --plot` through the binary: the Python chart package on the three
// folder kinds (run, compare, sensitivity), and the messages when its tools are missing.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "host/report/plot.h"
#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using testing::read_text;
using testing::run_chipcast;
using testing::run_command;
using testing::ScratchDir;
using testing::write_text;

const std::string kBuildPython = (fs::path(CHIPCAST_EXE).parent_path() / "python").string();

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = read_text(e.path());
  return out;
}

std::set<std::string> lines_of(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.insert(fs::path(line).filename().string());
  return out;
}

// minimal.toml with three uncertain domestic parameters, so sensitivity has factors to rank.
std::string uncertain_config(const ScratchDir& dir) {
  const auto path = dir / "uncertain.toml";
  write_text(path, "extends = \"" + testing::kMinimalToml +
                       "\"\n[domestic]\nhbm_growth = { dist = \"normal\", mean = 0.3, sd = 0.1 }\n"
                       "perf_growth = { dist = \"uniform\", low = 0.2, high = 0.3 }\n"
                       "hbm_vol = { dist = \"uniform\", low = 0.05, high = 0.15 }\n");
  return path.string();
}

class CliPlot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = testing::chart_tools_missing(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST(PlotFiles, NamesOfTheChartSet) {
  for (const char* name : {"fan_units.svg", "fan_units.png", "cdf_memory.svg", "annual_compute.png", "shift_units.svg",
                           "tornado.svg", "sobol.png", "report.html"})
    EXPECT_TRUE(is_plot_file(name)) << name;
  for (const char* name : {"summary.json", "fan_units.txt", "tornado.svg.bak", "compare.csv", "notes.html", "fan.svg"})
    EXPECT_FALSE(is_plot_file(name)) << name;
}

TEST_F(CliPlot, DrawsRunCompareAndSensitivityFolders) {
  ScratchDir dir("cli-plot-kinds");
  const std::string cfg = uncertain_config(dir);
  ASSERT_EQ(run_chipcast("run " + cfg + " -n 2000 -q --threads 1 --out " + (dir / "run").string()).status, 0);
  ASSERT_EQ(run_chipcast("compare " + testing::kMinimalToml + " " + cfg + " -n 2000 -q --threads 1 --out " +
                         (dir / "cmp").string())
                .status,
            0);
  ASSERT_EQ(run_chipcast("sensitivity " + cfg +
                         " --base-samples 64 --tornado-trajectories 64 --bootstrap 10 -q --threads 1 --out " +
                         (dir / "sens").string())
                .status,
            0);
  const std::map<std::string, std::set<std::string>> expected = {
      {"run",
       {"fan_units.svg", "fan_units.png", "cdf_units.svg", "cdf_units.png", "fan_compute.svg", "cdf_memory.png"}},
      {"cmp", {"shift_units.svg", "shift_units.png", "shift_compute.svg", "shift_memory.png"}},
      {"sens", {"tornado.svg", "tornado.png", "sobol.svg", "sobol.png"}}};
  for (const auto& [kind, charts] : expected) {
    const fs::path o = dir / kind;
    const auto before = contents(o);
    const auto r = run_chipcast("plot " + o.string());
    ASSERT_EQ(r.status, 0) << kind << ": " << r.output;
    const auto listed = lines_of(r.output);
    EXPECT_TRUE(listed.count("report.html")) << r.output;
    for (const auto& c : charts) EXPECT_TRUE(listed.count(c) && fs::is_regular_file(o / c)) << kind << " " << c;
    // Only chart files were added; the folder's own files are kept unchanged.
    const auto after = contents(o);
    for (const auto& [name, text] : before) EXPECT_EQ(after.at(name), text) << name;
    for (const auto& [name, text] : after)
      EXPECT_TRUE(before.count(name) || is_plot_file(name)) << kind << ": unexpected " << name;
    const std::string page = read_text(o / "report.html");
    EXPECT_NE(page.find("data:image/png;base64,"), std::string::npos) << kind;
  }
  EXPECT_FALSE(fs::exists(dir / "cmp" / "fan_units.svg"));
  EXPECT_FALSE(fs::exists(dir / "sens" / "fan_units.svg"));
  EXPECT_NE(read_text(dir / "sens" / "report.html").find("Provenance of the study"), std::string::npos);
  EXPECT_NE(read_text(dir / "cmp" / "report.html").find("Provenance of the comparison"), std::string::npos);
}

TEST_F(CliPlot, RunWithPlotWritesTheChartsInTheSameSet) {
  ScratchDir dir("cli-plot-run");
  const fs::path o = dir / "o";
  const auto r = run_chipcast("run " + testing::kMinimalToml + " -n 2000 --threads 1 --plot --out " + o.string());
  ASSERT_EQ(r.status, 0) << r.output;
  // fan, cdf and annual totals per metric (minimal.toml has calendar years)
  EXPECT_NE(r.output.find("9 charts (SVG and PNG) and report.html written to " + o.string()), std::string::npos)
      << r.output;
  for (const char* name :
       {"summary.json", "fan_units.svg", "fan_units.png", "cdf_compute.svg", "annual_memory.png", "report.html"})
    EXPECT_TRUE(fs::is_regular_file(o / name)) << name;
}

TEST_F(CliPlot, AFolderThatIsNoOutputFolderIsNamedAndLeftAsItWas) {
  ScratchDir dir("cli-plot-bad");
  fs::create_directories(dir / "o");
  write_text(dir / "o" / "notes.txt", "mine");
  auto r = run_chipcast("plot " + (dir / "o").string());
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("no summary.json, sensitivity.json, compare.json, score.json or calibration.json"),
            std::string::npos)
      << r.output;
  write_text(dir / "o" / "summary.json", "{}");
  r = run_chipcast("plot " + (dir / "o").string());
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("crossing.csv: missing"), std::string::npos) << r.output;
  EXPECT_EQ(names_in(dir / "o"), (std::set<std::string>{"notes.txt", "summary.json"}));
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));  // no temporary set left behind
}

TEST_F(CliPlot, MissingMatplotlibSaysHowToGetItAndWritesNothing) {
  ScratchDir dir("cli-plot-nompl");
  // A PYTHONPATH shim whose matplotlib does not import, as on a machine without it.
  fs::create_directories(dir / "shim" / "matplotlib");
  write_text(dir / "shim" / "matplotlib" / "__init__.py", "raise ImportError('No module named matplotlib')\n");
  const std::string env = "CHIPCAST_PYTHONPATH=" + kBuildPython + ":" + (dir / "shim").string() + " ";
  ASSERT_EQ(
      run_chipcast("run " + testing::kMinimalToml + " -n 1000 -q --threads 1 --out " + (dir / "o").string()).status, 0);
  const auto before = contents(dir / "o");
  auto r = run_command(env + CHIPCAST_EXE + " plot " + (dir / "o").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("error: chipcast charts need NumPy, pandas and matplotlib"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("apt-get install python3-matplotlib"), std::string::npos) << r.output;
  EXPECT_EQ(contents(dir / "o"), before);
  // run --plot refuses before any trajectory runs: nothing written.
  r = run_command(env + CHIPCAST_EXE + " run " + testing::kMinimalToml + " -n 1000 -q --plot --out " +
                  (dir / "p").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("matplotlib"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "p"));
}

TEST_F(CliPlot, APythonKilledMidwayLeavesTheFolderAsItWas) {
  ScratchDir dir("cli-plot-killed");
  ASSERT_EQ(
      run_chipcast("run " + testing::kMinimalToml + " -n 1000 -q --threads 1 --plot --out " + (dir / "o").string())
          .status,
      0);
  const auto before = contents(dir / "o");
  // Python dies midway: when it opens the first PNG for writing, fan_units.svg is already in the
  // set's temporary folder (the audit hook lists that folder into seen.txt, then kills itself).
  fs::create_directories(dir / "shim");
  const std::string seen = (dir / "seen.txt").string();
  write_text(
      dir / "shim" / "sitecustomize.py",
      "import os, signal, sys\n"
      "def hook(event, args):\n"
      "    if event == 'open' and isinstance(args[0], str) and args[0].endswith('.png') and 'w' in str(args[1]):\n"
      "        with open('" +
          seen +
          "', 'w') as f:\n"
          "            f.write('\\n'.join(sorted(os.listdir(os.path.dirname(args[0])))))\n"
          "        os.kill(os.getpid(), signal.SIGKILL)\n"
          "sys.addaudithook(hook)\n");
  const auto r = run_command("CHIPCAST_PYTHONPATH=" + kBuildPython + ":" + (dir / "shim").string() + " " +
                             CHIPCAST_EXE + " plot " + (dir / "o").string());
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("was killed by signal 9; nothing was written"), std::string::npos) << r.output;
  EXPECT_EQ(contents(dir / "o"), before);                                           // the earlier charts included
  EXPECT_NE(read_text(dir / "seen.txt").find("fan_units.svg"), std::string::npos);  // it was half-written
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o", "shim", "seen.txt"}));
}

TEST_F(CliPlot, MissingPackageOrInterpreterSaysHowToGetIt) {
  ScratchDir dir("cli-plot-nopkg");
  ASSERT_EQ(
      run_chipcast("run " + testing::kMinimalToml + " -n 1000 -q --threads 1 --out " + (dir / "o").string()).status, 0);
  const auto before = contents(dir / "o");
  fs::create_directories(dir / "empty");
  // PYTHONNOUSERSITE: scripts/forecast.sh puts a chipcast.pth naming build/python in the user's
  // site-packages, which would supply the package this case hides.
  auto r = run_command("PYTHONNOUSERSITE=1 CHIPCAST_PYTHONPATH=" + (dir / "empty").string() + " " + CHIPCAST_EXE +
                       " plot " + (dir / "o").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("the charts need the chipcast Python package"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--target chipcast_python"), std::string::npos) << r.output;
  r = run_command("CHIPCAST_PYTHON=" + (dir / "no-python3").string() + " " + CHIPCAST_EXE + " plot " +
                  (dir / "o").string());
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("the charts need Python 3, and '" + (dir / "no-python3").string() + "' cannot be run"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(contents(dir / "o"), before);
}

}  // namespace
}  // namespace chipcast
