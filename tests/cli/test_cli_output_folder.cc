// The output folder end to end: a held folder is refused (exit 2) and left untouched, a killed run's lock and debris
// do not stay, an unusable --out fails before any trajectory runs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "host/report/output_set.h"
#include "tests/support/cli_runner.h"
#include "tests/support/source_paths.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using testing::kMinimalToml;
using testing::kSourceDir;
using testing::read_text;
using testing::run_chipcast;
using testing::ScratchDir;
using testing::write_text;

const std::string kBaseline = kSourceDir + "/configs/baseline.toml";

std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = read_text(e.path());
  return out;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// A chipcast process started in the background; killed when the test ends.
struct Background {
  pid_t pid = -1;
  ~Background() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

TEST(CliOutputFolder, EveryCommandRefusesAFolderAnotherHolds) {
  ScratchDir dir("cli-out-held");
  const fs::path o = dir / "o";
  const auto first = run_chipcast("run " + kMinimalToml + " -n 2000 -q --threads 1 --out " + o.string());
  ASSERT_EQ(first.status, 0) << first.output;
  const auto before = contents(o);
  OutputSet held = OutputSet::open(o, OutputKind::run);  // this test process holds the folder
  const std::string pid = "pid " + std::to_string(::getpid());
  const std::string commands[] = {
      "run " + kMinimalToml + " -n 2000 -q --threads 1 --seed 5 --out " + o.string(),
      "plot " + o.string(),
      "compare " + kMinimalToml + " " + kMinimalToml + " -n 1000 -q --threads 1 --out " + o.string(),
      "sensitivity " + kBaseline + " --base-samples 64 --bootstrap 0 --tornado-trajectories 16 -q --threads 1 --out " +
          o.string(),
  };
  for (const std::string& cmd : commands) {
    const auto r = run_chipcast(cmd);
    EXPECT_EQ(r.status, 2) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find("error: output folder " + o.string() + ": in use"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(pid), std::string::npos) << r.output;
  }
  EXPECT_EQ(contents(o), before);
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o", ".o.chipcast-lock", held.path().filename().string()}));
}

TEST(CliOutputFolder, ALiveRunHoldsItsFolderAndAKilledOneLeavesItAsItWas) {
  ScratchDir dir("cli-out-kill");
  const fs::path o = dir / "o";
  const auto first = run_chipcast("run " + kMinimalToml + " -n 2000 -q --threads 1 --out " + o.string());
  ASSERT_EQ(first.status, 0) << first.output;
  const auto before = contents(o);
  // Debris of a run killed by an older chipcast in the middle of its first write (issue 14).
  const std::string dead_debris = ".crossing.csv.tmp-" + std::to_string(99999999) + "-0";
  write_text(o / dead_debris, "half a file");

  // A run far too long to finish: it is killed while it holds the folder.
  Background run;
  const std::string exe = CHIPCAST_EXE;
  run.pid = ::fork();
  ASSERT_GE(run.pid, 0);
  if (run.pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(exe.c_str(), exe.c_str(), "run", kMinimalToml.c_str(), "-n", "100000000000", "-q", "--threads", "1",
            "--out", o.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until it holds the lock (its PID is in the lock file); a bound, not a timing assumption.
  const std::string held_by = std::to_string(run.pid) + "\n";
  for (int i = 0; i < 6000 && read_text(dir / ".o.chipcast-lock") != held_by; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(read_text(dir / ".o.chipcast-lock"), held_by);

  const auto second = run_chipcast("run " + kMinimalToml + " -n 2000 -q --threads 1 --out " + o.string());
  EXPECT_EQ(second.status, 2) << second.output;
  EXPECT_NE(second.output.find("pid " + std::to_string(run.pid)), std::string::npos) << second.output;

  ::kill(run.pid, SIGKILL);
  ASSERT_EQ(::waitpid(run.pid, nullptr, 0), run.pid);
  run.pid = -1;
  // The folder as it was, less the old debris, which the killed run removed when it opened the folder.
  EXPECT_EQ(contents(o), before);

  // The lock is not stuck, and the next run clears what the killed ones left.
  const auto third = run_chipcast("run " + kMinimalToml + " -n 2000 -q --threads 1 --seed 9 --out " + o.string());
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));
  EXPECT_EQ(names_in(o),
            (std::set<std::string>{"summary.json", "crossing.csv", "bands.csv", "annual.csv", "resolved.toml"}));
  EXPECT_NE(read_text(o / "resolved.toml"), before.at("resolved.toml"));  // seed 9 now
}

TEST(CliOutputFolder, AnUnusableOutFailsBeforeAnyTrajectoryRuns) {
  ScratchDir dir("cli-out-bad");
  write_text(dir / "file", "a regular file");
  // 1e11 trajectories would take hours: the refusal must come first (a late check would hang to the ctest timeout).
  const std::string big = " -n 100000000000 --threads 1 --out ";
  for (const std::string& out : {(dir / "file" / "o").string(), (dir / "file").string()}) {
    const auto r = run_chipcast("run " + kMinimalToml + big + out);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("error: output folder " + out + ":"), std::string::npos) << r.output;
    const auto c = run_chipcast("compare " + kMinimalToml + " " + kMinimalToml + big + out);
    EXPECT_EQ(c.status, 2) << c.output;
    EXPECT_NE(c.output.find("error: output folder " + out + ":"), std::string::npos) << c.output;
  }
  const auto p = run_chipcast("plot " + (dir / "nothing").string());
  EXPECT_EQ(p.status, 2) << p.output;
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"file"}));
}

TEST(CliOutputFolder, RunWithPlotReplacesChartsOfAnEarlierRun) {
  if (const std::string why = testing::chart_tools_missing(); !why.empty()) GTEST_SKIP() << why;
  ScratchDir dir("cli-out-plot");
  const fs::path o = dir / "o";
  const std::string base = "run " + kMinimalToml + " -n 2000 -q --threads 1 --out " + o.string();
  ASSERT_EQ(run_chipcast(base + " --plot").status, 0);
  ASSERT_TRUE(fs::exists(o / "report.html"));
  write_text(o / "notes.txt", "kept");
  // A run without --plot: the charts of the earlier run would describe another run, so they go.
  ASSERT_EQ(run_chipcast(base + " --seed 4").status, 0);
  EXPECT_EQ(names_in(o), (std::set<std::string>{"summary.json", "crossing.csv", "bands.csv", "annual.csv",
                                                "resolved.toml", "notes.txt"}));
  // `chipcast plot` adds them back as a set and keeps the rest.
  const auto before = contents(o);
  const auto p = run_chipcast("plot " + o.string());
  ASSERT_EQ(p.status, 0) << p.output;
  const auto after = contents(o);
  for (const auto& [name, text] : before) EXPECT_EQ(after.at(name), text) << name;
  EXPECT_TRUE(after.count("report.html"));
  EXPECT_TRUE(after.count("fan_units.svg"));
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"o"}));
}

}  // namespace
}  // namespace chipcast
