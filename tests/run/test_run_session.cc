// Tests of RunSession on one rank: the tally of run_batches, stop and resume with the observer's messages, typed refusals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "host/run/checkpoint.h"
#include "host/run/run_session.h"
#include "host/run/runner.h"

namespace chipcast {
namespace {

namespace fs = std::filesystem;

const std::string kMinimal = std::string(CHIPCAST_SOURCE_DIR) + "/tests/config/data/minimal.toml";
constexpr uint64_t kTotal = 5000;

// Everything the session tells its observer, in order.
struct RecordingObserver : RunObserver {
  std::vector<std::string> warnings, notes;
  std::vector<uint64_t> progress_seen;
  RunStart start;
  int starts = 0, finishes = 0, failures = 0;
  void warning(const std::string& text) override { warnings.push_back(text); }
  void note(const std::string& text) override { notes.push_back(text); }
  void started(const RunStart& s) override {
    start = s;
    ++starts;
  }
  void progress(uint64_t done) override { progress_seen.push_back(done); }
  void finished() override { ++finishes; }
  void failed(const RunError&) override { ++failures; }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RunSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = load_scenario(kMinimal, Overrides{kTotal, uint64_t{3}, std::nullopt});
    BackendOptions bo;
    bo.threads = 1;
    reference_ = new Tally(run_batches(*make_backend("openmp", bo), scenario_->params, RunPlan{0, kTotal, 0}, nullptr));
  }
  static void TearDownTestSuite() {
    delete reference_;
    scenario_.reset();
  }
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("chipcast_session_" + std::to_string(::getpid()) + "_" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    SessionOptions so;
    so.threads = 1;
    session_ = std::make_unique<RunSession>(so);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The RunError kind `f` throws; fails the test when it throws none.
  template <class F>
  static RunErrorKind error_kind(F&& f, std::string* message = nullptr) {
    try {
      f();
    } catch (const RunError& e) {
      if (message) *message = e.what();
      EXPECT_TRUE(e.report_here());
      EXPECT_EQ(e.rank(), -1);  // one rank: no rank to name
      return e.kind();
    }
    ADD_FAILURE() << "no RunError";
    return RunErrorKind::runtime;
  }

  static std::shared_ptr<const Scenario> scenario_;
  static Tally* reference_;
  fs::path dir_;
  std::unique_ptr<RunSession> session_;
};
std::shared_ptr<const Scenario> RunSessionTest::scenario_;
Tally* RunSessionTest::reference_ = nullptr;

TEST_F(RunSessionTest, InMemoryRunGivesRunBatchesTallyAndWritesNothing) {
  EXPECT_EQ(session_->ranks(), 1);  // ctest runs this without mpirun
  EXPECT_TRUE(session_->speaks_for_job());
  RunOptions o;
  o.batch = 777;
  RecordingObserver obs;
  const RunResult r = session_->run(scenario_, o, &obs);
  EXPECT_EQ(r.outcome, RunOutcome::complete);
  EXPECT_TRUE(r.speaks_for_job);
  EXPECT_EQ(r.done, kTotal);
  EXPECT_TRUE(r.tally == *reference_);
  ASSERT_TRUE(r.summary.has_value());
  EXPECT_EQ(r.info.backend, "openmp");
  EXPECT_EQ(r.info.ranks, 1);
  EXPECT_EQ(r.info.threads, 1);
  EXPECT_TRUE(r.checkpoint_file.empty());
  EXPECT_EQ(r.scenario.get(), scenario_.get());
  // One start, a progress report per step (ceil(5000 / 777) = 7), the last at the total, one finish.
  EXPECT_EQ(obs.starts, 1);
  EXPECT_EQ(obs.start.total, kTotal);
  EXPECT_EQ(obs.start.already_done, 0u);
  EXPECT_EQ(obs.start.backend, "openmp");
  EXPECT_EQ(obs.progress_seen.size(), 7u);
  EXPECT_EQ(obs.progress_seen.back(), kTotal);
  EXPECT_EQ(obs.finishes, 1);
  EXPECT_TRUE(obs.notes.empty());
  EXPECT_EQ(obs.failures, 0);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(RunSessionTest, WritesTheOutputFolderWhenAsked) {
  RunOptions o;
  o.out = dir_ / "out";
  o.command_line = "a test";
  const RunResult r = session_->run(kMinimal, Overrides{kTotal, uint64_t{3}, std::nullopt}, o);
  EXPECT_TRUE(r.tally == *reference_);
  EXPECT_EQ(r.scenario->sha256, scenario_->sha256);
  for (const char* f : {"summary.json", "crossing.csv", "bands.csv", "resolved.toml"})
    EXPECT_TRUE(fs::exists(dir_ / "out" / f)) << f;
  EXPECT_EQ(slurp(dir_ / "out" / "crossing.csv"), crossing_csv(*r.summary));
  EXPECT_NE(slurp(dir_ / "out" / "summary.json").find("a test"), std::string::npos);
}

// A deadline already past stops the run after its first step, checkpointed;
// resuming (another batch size) completes to the uninterrupted tally, and
// the observer hears of the resume.
TEST_F(RunSessionTest, DeadlineStopsAndResumeCompletes) {
  RunOptions o;
  o.checkpoint = dir_ / "ck";
  o.batch = 1000;
  o.deadline = std::chrono::steady_clock::now();
  RecordingObserver first;
  const RunResult stopped = session_->run(scenario_, o, &first);
  EXPECT_EQ(stopped.outcome, RunOutcome::stopped);
  EXPECT_EQ(stopped.stop_reason, "the time limit");
  EXPECT_EQ(stopped.done, 1000u);
  EXPECT_EQ(stopped.checkpoint_file, checkpoint_path(dir_ / "ck"));
  EXPECT_FALSE(stopped.summary.has_value());
  const auto cp = read_checkpoint(dir_ / "ck");
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(count_of(cp->done), 1000u);

  o.deadline.reset();
  o.resume = true;
  o.batch = 1234;
  RecordingObserver second;
  const RunResult rest = session_->run(scenario_, o, &second);
  EXPECT_EQ(rest.outcome, RunOutcome::complete);
  EXPECT_TRUE(rest.tally == *reference_);
  EXPECT_EQ(second.start.already_done, 1000u);
  ASSERT_EQ(second.notes.size(), 1u);
  EXPECT_EQ(second.notes[0].rfind("resuming from " + checkpoint_path(dir_ / "ck").string() + ": 1000 of 5000", 0), 0u)
      << second.notes[0];
  EXPECT_TRUE(second.warnings.empty());
}

// A run of the shared v2 scenario (every MODEL-v2.md section 1-5 key) stopped
// after its first step and resumed completes to the uninterrupted tally, and
// writes the same crossing.csv and bands.csv byte for byte.
TEST_F(RunSessionTest, V2ScenarioResumesToTheUninterruptedOutputs) {
  const std::string v2 = std::string(CHIPCAST_SOURCE_DIR) + "/tests/models/data/v2_all_keys.toml";
  const Overrides ov{kTotal, uint64_t{5}, std::nullopt};
  RunOptions whole;
  whole.out = dir_ / "whole";
  const RunResult ref = session_->run(v2, ov, whole);
  ASSERT_EQ(ref.scenario->params.v2, 1);
  RunOptions o;
  o.checkpoint = dir_ / "ck";
  o.batch = 1000;
  o.deadline = std::chrono::steady_clock::now();
  const RunResult stopped = session_->run(v2, ov, o);
  EXPECT_EQ(stopped.outcome, RunOutcome::stopped);
  EXPECT_EQ(stopped.done, 1000u);
  o.deadline.reset();
  o.resume = true;
  o.batch = 1234;
  o.out = dir_ / "resumed";
  const RunResult rest = session_->run(v2, ov, o);
  EXPECT_EQ(rest.outcome, RunOutcome::complete);
  EXPECT_TRUE(rest.tally == ref.tally);
  for (const char* f : {"crossing.csv", "bands.csv", "resolved.toml"})
    EXPECT_EQ(slurp(dir_ / "resumed" / f), slurp(dir_ / "whole" / f)) << f;
  // Resuming needs the same v2 config: the digest covers the v2 keys, so a
  // changed stock makes the checkpoint another run's.
  const std::string other = (dir_ / "other.toml").string();
  std::ofstream(other) << "extends = \"" << v2 << "\"\n[foreign]\nhbm_stock0 = 3.0e6\n";
  std::string why;
  EXPECT_NE(load_scenario(other)->sha256, ref.scenario->sha256);
  EXPECT_EQ(error_kind([&] { session_->run(other, ov, o); }, &why), RunErrorKind::checkpoint) << why;
  EXPECT_NE(why.find("belongs to another run"), std::string::npos) << why;
}

TEST_F(RunSessionTest, StepHookSleepMakesTheDeadlineStopAfterThatStep) {
  RunOptions o;
  o.checkpoint = dir_ / "ck";
  o.batch = 1000;
  // The first step takes at least 0.2 s, past the deadline 0.1 s from now:
  // the run stops after it, however fast the machine.
  o.step_hook = parse_step_hook("1:sleep=0.2");
  o.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  const RunResult r = session_->run(scenario_, o);
  EXPECT_EQ(r.outcome, RunOutcome::stopped);
  EXPECT_EQ(r.done, 1000u);
}

TEST_F(RunSessionTest, RefusalsAreTyped) {
  std::string why;
  // Resume or a deadline without a checkpoint folder: a config error.
  RunOptions o;
  o.resume = true;
  EXPECT_EQ(error_kind([&] { session_->run(scenario_, o); }), RunErrorKind::config);
  o = RunOptions{};
  o.deadline = std::chrono::steady_clock::now();
  EXPECT_EQ(error_kind([&] { session_->run(scenario_, o); }), RunErrorKind::config);
  // A bad config: a config error naming the file.
  { std::ofstream(dir_ / "bad.toml") << "[run]\ntrajectories = -4\n"; }
  EXPECT_EQ(error_kind([&] { session_->load((dir_ / "bad.toml").string(), Overrides{}); }, &why), RunErrorKind::config);
  EXPECT_NE(why.find("bad.toml"), std::string::npos) << why;
  // A checkpoint that exists, without resume: refused and left untouched.
  o = RunOptions{};
  o.checkpoint = dir_ / "ck";
  o.batch = 1000;
  o.deadline = std::chrono::steady_clock::now();
  ASSERT_EQ(session_->run(scenario_, o).outcome, RunOutcome::stopped);
  const std::string bytes = slurp(checkpoint_path(dir_ / "ck"));
  o.deadline.reset();
  EXPECT_EQ(error_kind([&] { session_->run(scenario_, o); }, &why), RunErrorKind::checkpoint);
  EXPECT_NE(why.find("--resume"), std::string::npos) << why;
  // Another seed: refused too.
  o.resume = true;
  const std::shared_ptr<const Scenario> other = load_scenario(kMinimal, Overrides{kTotal, uint64_t{4}, std::nullopt});
  EXPECT_EQ(error_kind([&] { session_->run(other, o); }, &why), RunErrorKind::checkpoint);
  EXPECT_NE(why.find("seed"), std::string::npos) << why;
  EXPECT_EQ(slurp(checkpoint_path(dir_ / "ck")), bytes);
  // A checkpoint folder that cannot be made: a runtime error, found before any work.
  { std::ofstream(dir_ / "a-file") << "x"; }
  o = RunOptions{};
  o.checkpoint = dir_ / "a-file" / "ck";
  o.out = dir_ / "never";
  EXPECT_EQ(error_kind([&] { session_->run(scenario_, o); }), RunErrorKind::runtime);
  EXPECT_FALSE(fs::exists(dir_ / "never"));
  // A backend this build lacks: a bad option (config, exit 2 in the CLI; issue 14), from run and
  // from crossing_times alike.
  SessionOptions so;
  so.backend = "no-such-backend";
  RunSession bad(so);
  EXPECT_EQ(error_kind([&] { bad.run(scenario_, RunOptions{}); }, &why), RunErrorKind::config);
  EXPECT_NE(why.find("no-such-backend"), std::string::npos) << why;
  std::vector<float> t(3);
  EXPECT_EQ(error_kind([&] { bad.crossing_times(scenario_->params, 0, 1, t.data()); }), RunErrorKind::config);
}

TEST_F(RunSessionTest, CrossingTimesAreTheBackendsOwn) {
  const uint64_t n = 300;
  std::vector<float> mine(3 * n), direct(3 * n);
  session_->crossing_times(scenario_->params, 100, n, mine.data());
  BackendOptions bo;
  bo.threads = 1;
  make_backend("openmp", bo)->crossing_times(scenario_->params, 100, n, direct.data());
  EXPECT_EQ(mine, direct);
  EXPECT_EQ(session_->backend_name(), "openmp");
  EXPECT_FALSE(session_->backend_detail().empty());
}

TEST(BuildInfoTest, NamesTheOpenMpBackendAndTheVersion) {
  const BuildInfo b = build_info();
  EXPECT_EQ(b.version, CHIPCAST_VERSION);
  ASSERT_FALSE(b.backends.empty());
  EXPECT_EQ(b.backends[0], "openmp");
  EXPECT_EQ(b.mpi_library.empty(), !b.mpi);
}

}  // namespace
}  // namespace chipcast

namespace chipcast {
namespace {

// The memory estimate counts the calendar-year rows: each level entry costs
// 8 bytes in each of the three 64-bit tallies and 4 + 2 bytes per worker
// (32-bit partial tally and 16-bit hot counters).
TEST(RunMemoryBytes, IncludesTheCalendarYearRows) {
  const TallyShape without{136, 25, 0}, with{136, 25, 34};
  const uint64_t year_entries = uint64_t{34} * kNumSeries * kLevelBins;
  for (int workers : {1, 16})
    EXPECT_EQ(run_memory_bytes(with, workers) - run_memory_bytes(without, workers),
              year_entries * (3 * 8 + static_cast<uint64_t>(workers) * 6))
        << workers;
}

}  // namespace
}  // namespace chipcast
