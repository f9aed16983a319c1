// End-to-end tests of `chipcast run` for HPC use: MPI ranks, kill and resume, stop signals, time limit, refusals.
//
// Each test starts the real chipcast executable (CHIPCAST_EXE), under mpirun
// (CHIPCAST_MPIEXEC, an MPI build only) where the test says so, and compares
// output files byte for byte. Where a test stops, kills or times out a run it
// pins the moment with the test-only step hook (CHIPCAST_TEST_STEP_HOOK,
// host/run/step_hook.h): the run waits at a chosen step for the signal, or
// its first step takes longer than the time limit, so that no outcome
// depends on how fast the machine is.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host/cli/exit_status.h"
#include "host/run/checkpoint.h"
#include "host/run/mpi_context.h"
#include "host/run/step_hook.h"

#ifndef CHIPCAST_MPIEXEC
#define CHIPCAST_MPIEXEC ""
#endif

namespace chipcast {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using cli::kExitCheckpoint;
using cli::kExitCheckpointed;
using cli::kExitConfig;
using cli::kExitRuntime;

const std::string kExe = CHIPCAST_EXE;
const std::string kMpiexec = CHIPCAST_MPIEXEC;
const std::string kBaseline = std::string(CHIPCAST_SOURCE_DIR) + "/configs/baseline.toml";

bool have_mpi() { return MpiContext::compiled_with_mpi() && !kMpiexec.empty(); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- processes ----

struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

// mpirun as root needs these; harmless otherwise.
void allow_mpirun_as_root() {
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
}

// `step_hook` (empty: none) goes into the child's CHIPCAST_TEST_STEP_HOOK.
Child spawn(const std::vector<std::string>& args, const fs::path& log_stem, const std::string& step_hook) {
  Child c;
  c.out = log_stem.string() + ".out";
  c.err = log_stem.string() + ".err";
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  c.pid = ::fork();
  if (c.pid == 0) {
    if (step_hook.empty())
      ::unsetenv(kStepHookVariable);
    else
      ::setenv(kStepHookVariable, step_hook.c_str(), 1);
    const int o = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  return c;
}

// Exit status, or 128 + signal for a killed process.
int wait_for(const Child& c) {
  int st = 0;
  while (::waitpid(c.pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// The process and all its descendants (mpirun and its ranks), from /proc.
std::vector<pid_t> process_tree(pid_t root) {
  std::vector<std::pair<pid_t, pid_t>> parent_of;  // (pid, ppid)
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0) continue;
      std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      const size_t close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state;
      pid_t ppid;
      rest >> state >> ppid;
      parent_of.emplace_back(pid, ppid);
    }
    ::closedir(d);
  }
  std::vector<pid_t> tree{root};
  for (size_t i = 0; i < tree.size(); ++i)
    for (const auto& [pid, ppid] : parent_of)
      if (ppid == tree[i]) tree.push_back(pid);
  return tree;
}

// Descendants named like the chipcast executable (the MPI ranks, or the process itself).
std::vector<pid_t> chipcast_processes(pid_t root) {
  std::vector<pid_t> out;
  for (pid_t p : process_tree(root)) {
    std::ifstream comm("/proc/" + std::to_string(p) + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name == "chipcast") out.push_back(p);
  }
  return out;
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

// ---- the fixture ----

class HpcCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    allow_mpirun_as_root();
    dir_ = fs::path(::testing::TempDir()) / ("chipcast_hpc_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // `chipcast run` argv, under `mpirun -np ranks` when ranks > 0 (passing the step hook on to every rank).
  std::vector<std::string> command(int ranks, const std::vector<std::string>& args) const {
    std::vector<std::string> cmd;
    if (ranks > 0)
      cmd = {kMpiexec, "--allow-run-as-root", "--oversubscribe", "-x", kStepHookVariable, "-np", std::to_string(ranks)};
    cmd.push_back(kExe);
    cmd.push_back(subcommand_);
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
  }
  // `step_hook`: see spawn.
  Child start(int ranks, const std::vector<std::string>& args, const std::string& log,
              const std::string& step_hook = "") {
    return spawn(command(ranks, args), dir_ / log, step_hook);
  }
  int run(int ranks, const std::vector<std::string>& args, const std::string& log, const std::string& step_hook = "") {
    const Child c = start(ranks, args, log, step_hook);
    const int rc = wait_for(c);
    last_err_ = slurp(c.err);
    last_out_ = slurp(c.out);
    return rc;
  }
  // baseline, n trajectories, one thread, quiet, outputs in dir_/out.
  std::vector<std::string> baseline(uint64_t n, const std::string& out, std::vector<std::string> more = {}) const {
    std::vector<std::string> a{kBaseline, "-n", std::to_string(n), "--threads", "1", "-o", (dir_ / out).string()};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }

  // crossing.csv and bands.csv byte for byte; summary.json without its timing and launch fields.
  void expect_same_outputs(const std::string& a, const std::string& b) const {
    // annual.csv: the baseline's quarters tile calendar years, so it has one.
    for (const char* f : {"crossing.csv", "bands.csv", "annual.csv", "resolved.toml"}) {
      const std::string x = slurp(dir_ / a / f), y = slurp(dir_ / b / f);
      EXPECT_FALSE(x.empty()) << a << "/" << f;
      EXPECT_TRUE(x == y) << f << " differs between " << a << " and " << b;
    }
    auto summary = [&](const std::string& d) {
      nlohmann::json j = nlohmann::json::parse(slurp(dir_ / d / "summary.json"));
      for (const char* k : {"seconds", "started_utc", "command_line", "ranks"}) j.erase(k);
      return j;
    };
    EXPECT_EQ(summary(a), summary(b)) << "summary.json differs between " << a << " and " << b;
  }

  fs::path ckpt(const std::string& d) const { return checkpoint_path(dir_ / d); }
  // Trajectories in dir_/d's checkpoint now, 0 when there is none yet (a
  // reader sees the old or the new file, never a torn one).
  uint64_t checkpointed(const std::string& d) const {
    const auto cp = read_checkpoint(dir_ / d);
    return cp ? count_of(cp->done) : 0;
  }

  fs::path dir_;
  std::string last_out_, last_err_;
  std::string subcommand_ = "run";  // what command() runs: "run" or "calibrate"
};

// ---- MPI ranks ----

TEST_F(HpcCliTest, MpiRankCountsGiveIdenticalOutputs) {
  if (!have_mpi()) GTEST_SKIP() << "not an MPI build (configure with --preset mpi) or no mpirun found";
  ASSERT_EQ(run(0, baseline(20000, "single", {"-q"}), "single"), 0) << last_err_;
  for (int np : {1, 2, 4}) {
    // 3000 per rank and step: several steps, a ragged last one.
    const std::string out = "np" + std::to_string(np);
    ASSERT_EQ(run(np, baseline(20000, out, {"--batch", "3000"}), out), 0) << last_err_;
    expect_same_outputs("single", out);
    // Rank 0 alone speaks.
    size_t headlines = 0;
    for (size_t at = last_out_.find("Parity year"); at != std::string::npos; at = last_out_.find("Parity year", at + 1))
      ++headlines;
    EXPECT_EQ(headlines, 1u) << last_out_;
    EXPECT_EQ(nlohmann::json::parse(slurp(dir_ / out / "summary.json"))["ranks"], np);
  }
}

// A calibrate run on 1, 2 and 4 ranks: the decision counts and the posterior are reduced like the
// run's tally, so every file but the provenance is the same as without mpirun.
TEST_F(HpcCliTest, MpiRankCountsGiveIdenticalCalibrations) {
  if (!have_mpi()) GTEST_SKIP() << "not an MPI build (configure with --preset mpi) or no mpirun found";
  subcommand_ = "calibrate";
  const fs::path sc = dir_ / "observed.toml";
  std::ofstream(sc) << "extends = \"" << CHIPCAST_SOURCE_DIR << "/tests/config/data/minimal.toml\"\n"
                    << "[[observations]]\nyear = 2027\nbloc = \"domestic\"\nmetric = \"units\"\nvalue = 2.1e4\n"
                       "sd_log = 0.05\nsource = \"synthetic, for the test\"\n"
                    // A supply quantity: its predictive quantiles come from the reduced decision counts.
                    << "[[observations]]\nyear = 2028\nbloc = \"domestic\"\nmetric = \"wafers\"\nvalue = 3.0e4\n"
                       "sd_log = 0.5\nsource = \"synthetic, for the test\"\n";
  auto args = [&](const std::string& out, std::vector<std::string> more) {
    std::vector<std::string> a{sc.string(), "-n", "12000", "--threads", "1", "-q", "-o", (dir_ / out).string()};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  ASSERT_EQ(run(0, args("single", {}), "single"), 0) << last_err_;
  auto calibration = [&](const std::string& d) {
    nlohmann::json j = nlohmann::json::parse(slurp(dir_ / d / "calibration.json"));
    for (const char* k : {"seconds", "started_utc", "command_line", "ranks"}) j.erase(k);
    return j;
  };
  EXPECT_GT(calibration("single")["accepted"].get<uint64_t>(), 0u);
  EXPECT_TRUE(calibration("single")["observations"][1]["posterior"]["q50"].is_number());
  for (int np : {1, 2, 4}) {
    const std::string out = "np" + std::to_string(np);
    ASSERT_EQ(run(np, args(out, {"--batch", "1700"}), out), 0) << last_err_;
    for (const char* f : {"calibration.csv", "parameter_quantiles.csv", "prior/crossing.csv", "prior/bands.csv",
                          "prior/annual.csv", "posterior/crossing.csv", "posterior/bands.csv", "posterior/annual.csv"})
      EXPECT_TRUE(slurp(dir_ / "single" / f) == slurp(dir_ / out / f)) << f << " differs on " << np << " ranks";
    EXPECT_EQ(calibration("single"), calibration(out)) << np << " ranks";
  }
}

TEST_F(HpcCliTest, BatchSizeDoesNotChangeOutputs) {
  ASSERT_EQ(run(0, baseline(20000, "a", {"-q"}), "a"), 0) << last_err_;
  ASSERT_EQ(run(0,
                baseline(20000, "b",
                         {"-q", "--batch", "1111", "--checkpoint", (dir_ / "ck").string(), "--checkpoint-every", "0"}),
                "b"),
            0)
      << last_err_;
  expect_same_outputs("a", "b");
  // The final checkpoint holds the whole run.
  const auto c = read_checkpoint(dir_ / "ck");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(count_of(c->done), 20000u);
}

// ---- kill and resume ----

// A bound on waiting for a child to reach a state: far above any machine's
// time for it, only there so that a broken run fails the test instead of
// hanging it. No outcome depends on how soon the state is reached.
constexpr auto kPatience = 300s;

// Kills the run (every process of it, as a node failure or scancel would)
// three times, each while it waits at a chosen step for a signal (step hook
// "S:wait-signal"): it cannot finish before the kill, and as it checkpoints
// after every step, the kill leaves exactly S - 1 more steps in the
// checkpoint, whatever the machine's speed. The fourth attempt completes.
TEST_F(HpcCliTest, KilledRunsResumeToIdenticalOutputs) {
  const int ranks = have_mpi() ? 2 : 0;
  const uint64_t n = 100000, batch = 1024;
  const uint64_t step = batch * static_cast<uint64_t>(std::max(ranks, 1));  // trajectories per step
  ASSERT_EQ(run(0, baseline(n, "ref", {"-q"}), "ref"), 0) << last_err_;
  const std::vector<std::string> args = baseline(
      n, "out",
      {"-q", "--batch", std::to_string(batch), "--checkpoint", (dir_ / "ck").string(), "--checkpoint-every", "0"});
  std::vector<std::string> resume_args = args;
  resume_args.push_back("--resume");
  // The last attempt, not killed, checkpoints at the default interval (faster).
  const std::vector<std::string> finish_args =
      baseline(n, "out", {"-q", "--batch", std::to_string(batch), "--checkpoint", (dir_ / "ck").string(), "--resume"});

  const uint64_t wait_at[3] = {3, 2, 4};  // the step each killed attempt waits at
  uint64_t expected = 0;                  // trajectories checkpointed after each kill
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool kill_it = attempt < 3;
    const Child c =
        start(ranks,
              attempt == 0 ? args
              : kill_it    ? resume_args
                           : finish_args,
              "attempt" + std::to_string(attempt), kill_it ? fmt::format("{}:wait-signal", wait_at[attempt]) : "");
    if (kill_it) {
      expected += (wait_at[attempt] - 1) * step;
      ASSERT_TRUE(wait_until([&] { return checkpointed("ck") == expected; }, kPatience))
          << "attempt " << attempt << ": the checkpoint holds " << checkpointed("ck") << " trajectories, not "
          << expected;
      for (pid_t p : process_tree(c.pid)) ::kill(p, SIGKILL);
    }
    const int rc = wait_for(c);
    if (!kill_it) {
      ASSERT_EQ(rc, 0) << slurp(c.err);
      break;
    }
    EXPECT_EQ(rc, 128 + SIGKILL) << slurp(c.err);
    ASSERT_FALSE(fs::exists(dir_ / "out" / "summary.json")) << "a killed run wrote outputs";
    // The run could not pass its waiting step: the checkpoint is the one seen before the kill, and whole.
    EXPECT_EQ(checkpointed("ck"), expected) << "attempt " << attempt;
  }
  EXPECT_LT(expected, n);
  expect_same_outputs("ref", "out");
}

// Stopping by signal: the batch in flight finishes, the checkpoint is
// written, the exit status is 75; resuming completes to identical outputs.
// Without MPI: SIGTERM to the process. With MPI: SIGUSR1 to mpirun (it
// forwards it to the ranks) and SIGTERM to every rank (as srun or a
// scheduler delivers it). The run waits at its second step for the signal
// (step hook "2:wait-signal"), which is sent once the first step's
// checkpoint exists (so the stop handlers are installed): the stop always
// lands on the second step, and the checkpoint holds exactly two steps.
TEST_F(HpcCliTest, StopSignalCheckpointsAndExits75) {
  const uint64_t n = 100000;
  ASSERT_EQ(run(0, baseline(n, "ref", {"-q"}), "ref"), 0) << last_err_;
  struct Way {
    int ranks;
    bool to_launcher;
    int sig;
  };
  std::vector<Way> ways{{0, true, SIGTERM}};
  if (have_mpi()) ways = {{2, true, SIGUSR1}, {2, false, SIGTERM}};
  for (size_t w = 0; w < ways.size(); ++w) {
    const std::string tag = std::to_string(w);
    const uint64_t step = 1024 * static_cast<uint64_t>(std::max(ways[w].ranks, 1));
    const std::vector<std::string> args = baseline(
        n, "out" + tag, {"--batch", "1024", "--checkpoint", (dir_ / ("ck" + tag)).string(), "--checkpoint-every", "0"});
    const Child c = start(ways[w].ranks, args, "stop" + tag, "2:wait-signal");
    ASSERT_TRUE(wait_until([&] { return fs::exists(ckpt("ck" + tag)); }, kPatience));
    if (ways[w].to_launcher) {
      ::kill(c.pid, ways[w].sig);
    } else {
      std::vector<pid_t> ranks;
      ASSERT_TRUE(wait_until([&] { return (ranks = chipcast_processes(c.pid)).size() == 2; }, kPatience));
      for (pid_t p : ranks) ::kill(p, ways[w].sig);
    }
    EXPECT_EQ(wait_for(c), kExitCheckpointed) << slurp(c.err);
    EXPECT_NE(slurp(c.err).find("--resume"), std::string::npos) << slurp(c.err);
    EXPECT_NE(slurp(c.err).find(std::string("stopped by ") + (ways[w].sig == SIGTERM ? "SIGTERM" : "SIGUSR1") +
                                " on rank 0 after " + std::to_string(2 * step)),
              std::string::npos)
        << slurp(c.err);
    EXPECT_FALSE(fs::exists(dir_ / ("out" + tag) / "summary.json"));
    EXPECT_EQ(checkpointed("ck" + tag), 2 * step);

    const std::vector<std::string> resume =
        baseline(n, "out" + tag, {"--checkpoint", (dir_ / ("ck" + tag)).string(), "--resume"});
    ASSERT_EQ(run(ways[w].ranks, resume, "resume" + tag), 0) << last_err_;
    expect_same_outputs("ref", "out" + tag);
  }
}

TEST_F(HpcCliTest, TimeLimitCheckpointsAndExits75) {
  const uint64_t n = 100000;
  ASSERT_EQ(run(0, baseline(n, "ref", {"-q"}), "ref"), 0) << last_err_;
  const int ranks = have_mpi() ? 2 : 0;
  const uint64_t step = 1024 * static_cast<uint64_t>(std::max(ranks, 1));
  // The first step takes at least 0.1 s (step hook "1:sleep=0.1"), more than
  // the limit of 0.001 minutes (0.06 s) from the program's start: the run
  // stops after exactly that step, however fast the machine.
  const std::vector<std::string> args =
      baseline(n, "out", {"--batch", "1024", "--checkpoint", (dir_ / "ck").string(), "--time-limit", "0.001"});
  ASSERT_EQ(run(ranks, args, "limited", "1:sleep=0.1"), kExitCheckpointed) << last_err_;
  EXPECT_NE(last_err_.find("stopped by the time limit after " + std::to_string(step)), std::string::npos) << last_err_;
  EXPECT_EQ(checkpointed("ck"), step);
  std::vector<std::string> resume = baseline(n, "out", {"--checkpoint", (dir_ / "ck").string(), "--resume"});
  ASSERT_EQ(run(ranks, resume, "resume"), 0) << last_err_;
  expect_same_outputs("ref", "out");
  // Resuming a finished run only rewrites its outputs.
  fs::remove_all(dir_ / "out");
  ASSERT_EQ(run(0, resume, "again"), 0) << last_err_;
  expect_same_outputs("ref", "out");
}

// ---- refusals ----

TEST_F(HpcCliTest, CorruptAndMismatchedCheckpointsAreRefusedAndKept) {
  const uint64_t n = 8000;
  const std::string ck = (dir_ / "ck").string();
  // A partial checkpoint: the run stops as if signalled after its first step.
  ASSERT_EQ(run(0, baseline(n, "out", {"-q", "--checkpoint", ck, "--batch", "2048"}), "a", "1:raise=SIGTERM"),
            kExitCheckpointed)
      << last_err_;
  ASSERT_EQ(checkpointed("ck"), 2048u);
  const std::string good = slurp(ckpt("ck"));
  ASSERT_FALSE(good.empty());

  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string bytes;   // checkpoint content to install
    std::string expect;  // in the error message
  };
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x20;
  const std::vector<Case> cases{
      {"flipped", baseline(n, "out", {"--checkpoint", ck, "--resume"}), flipped, "checksum"},
      {"truncated", baseline(n, "out", {"--checkpoint", ck, "--resume"}), good.substr(0, good.size() - 100),
       "truncated"},
      {"seed", baseline(n, "out", {"--checkpoint", ck, "--resume", "--seed", "5"}), good, "seed"},
      {"count", baseline(n + 1, "out", {"--checkpoint", ck, "--resume"}), good, "trajectories 8000"},
      {"config",
       {std::string(CHIPCAST_SOURCE_DIR) + "/configs/hbm_binding.toml", "-n", std::to_string(n), "--seed", "20261123",
        "-o", (dir_ / "out").string(), "--checkpoint", ck, "--resume"},
       good,
       "sha256"},
      {"no-resume", baseline(n, "out", {"--checkpoint", ck}), good, "--resume"},
  };
  for (const Case& c : cases) {
    {
      std::ofstream f(ckpt("ck"), std::ios::binary | std::ios::trunc);
      f << c.bytes;
    }
    const auto mtime = fs::last_write_time(ckpt("ck"));
    EXPECT_EQ(run(0, c.args, c.name), kExitCheckpoint) << c.name << ": " << last_err_;
    EXPECT_NE(last_err_.find(c.expect), std::string::npos) << c.name << ": " << last_err_;
    EXPECT_EQ(slurp(ckpt("ck")), c.bytes) << c.name << ": the checkpoint was modified";
    EXPECT_EQ(fs::last_write_time(ckpt("ck")), mtime) << c.name;
    EXPECT_FALSE(fs::exists(dir_ / "out" / "summary.json")) << c.name;
  }
  if (have_mpi()) {  // the same refusal, and status, from a multi-rank job
    EXPECT_EQ(run(2, cases[2].args, "mpi-seed"), kExitCheckpoint) << last_err_;
    EXPECT_NE(last_err_.find("seed"), std::string::npos) << last_err_;
  }
}

TEST_F(HpcCliTest, FlagsThatNeedACheckpointFolder) {
  EXPECT_EQ(run(0, baseline(1000, "out", {"--resume"}), "r"), kExitConfig);
  EXPECT_NE(last_err_.find("--checkpoint"), std::string::npos) << last_err_;
  EXPECT_EQ(run(0, baseline(1000, "out", {"--time-limit", "5"}), "t"), kExitConfig);
  // A folder that cannot be made is found before any work is done.
  { std::ofstream(dir_ / "a-file") << "x"; }
  EXPECT_EQ(run(0, baseline(1000, "out", {"--checkpoint", (dir_ / "a-file" / "ck").string()}), "w"), kExitRuntime);
  EXPECT_NE(last_err_.find("checkpoint folder"), std::string::npos) << last_err_;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

// A rank that dies takes the job down with it, and nothing claims
// completeness. The ranks wait at their second step (step hook
// "2:wait-signal"), so the job cannot finish before one of them is killed.
TEST_F(HpcCliTest, DeadRankFailsTheJobAndTheCheckpointResumes) {
  if (!have_mpi()) GTEST_SKIP() << "not an MPI build (configure with --preset mpi) or no mpirun found";
  const uint64_t n = 100000;
  ASSERT_EQ(run(0, baseline(n, "ref", {"-q"}), "ref"), 0) << last_err_;
  const std::vector<std::string> args =
      baseline(n, "out", {"-q", "--batch", "1024", "--checkpoint", (dir_ / "ck").string(), "--checkpoint-every", "0"});
  const Child c = start(2, args, "dies", "2:wait-signal");
  ASSERT_TRUE(wait_until([&] { return fs::exists(ckpt("ck")); }, kPatience));
  std::vector<pid_t> ranks;
  ASSERT_TRUE(wait_until([&] { return (ranks = chipcast_processes(c.pid)).size() == 2; }, kPatience));
  ::kill(ranks.back(), SIGKILL);  // one rank only
  const int rc = wait_for(c);
  EXPECT_NE(rc, 0);
  EXPECT_NE(rc, kExitCheckpointed);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "summary.json"));
  const std::vector<std::string> resume = baseline(n, "out", {"--checkpoint", (dir_ / "ck").string(), "--resume"});
  ASSERT_EQ(run(2, resume, "resume"), 0) << last_err_;
  expect_same_outputs("ref", "out");
}

// A build without MPI started as one of several tasks refuses to run the whole job in each.
TEST_F(HpcCliTest, NonMpiBuildRefusesToRunAsOneOfManyTasks) {
  if (MpiContext::compiled_with_mpi()) GTEST_SKIP() << "an MPI build joins the launcher's world instead";
  ::setenv("SLURM_STEP_NUM_TASKS", "4", 1);
  const int rc = run(0, baseline(1000, "out"), "tasks");
  ::unsetenv("SLURM_STEP_NUM_TASKS");
  EXPECT_EQ(rc, kExitConfig);
  EXPECT_NE(last_err_.find("without MPI"), std::string::npos) << last_err_;
}

}  // namespace
}  // namespace chipcast
