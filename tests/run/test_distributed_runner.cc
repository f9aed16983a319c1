// Tests of run_distributed on one rank: same tally as run_batches for any batch, stop and resume, time limit, checks.
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "host/run/mpi_context.h"
#include "host/run/runner.h"

namespace chipcast {
namespace {

// One MpiContext per process (MPI_Init may run once); a singleton world in an MPI build.
const MpiContext& mpi() {
  static int argc = 0;
  static char** argv = nullptr;
  static MpiContext context(&argc, &argv);
  return context;
}

class DistributedRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scenario_ = load_scenario(std::string(CHIPCAST_SOURCE_DIR) + "/tests/config/data/minimal.toml",
                              Overrides{uint64_t{5000}, uint64_t{3}, std::nullopt})
                    .release();
    BackendOptions bo;
    bo.threads = 1;
    backend_ = make_backend("openmp", bo).release();
    reference_ = new Tally(run_batches(*backend_, params(), RunPlan{0, 5000, 0}, nullptr));
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete backend_;
    delete scenario_;
  }
  static const parity::ModelParams& params() { return scenario_->params; }
  static Tally empty() { return Tally(parity::tally_shape(params())); }

  static Scenario* scenario_;
  static Backend* backend_;
  static Tally* reference_;
};
Scenario* DistributedRunnerTest::scenario_ = nullptr;
Backend* DistributedRunnerTest::backend_ = nullptr;
Tally* DistributedRunnerTest::reference_ = nullptr;

TEST_F(DistributedRunnerTest, SameTallyForAnyBatch) {
  ASSERT_EQ(mpi().size(), 1);  // ctest runs this without mpirun
  // The tallies compared include minimal.toml's 10 calendar years (reduced with the periods).
  ASSERT_EQ(reference_->shape.years, 10);
  for (uint64_t batch : {0ull, 1ull, 777ull, 4096ull, 5000ull, 100000ull}) {
    DistributedPlan plan;
    plan.total = 5000;
    plan.batch = batch;
    const DistributedResult r = run_distributed(*backend_, params(), plan, empty(), mpi(), nullptr, nullptr, nullptr);
    EXPECT_EQ(r.status, RunStatus::complete);
    EXPECT_EQ(describe(r.done), "[0, 5000)");
    EXPECT_TRUE(r.tally == *reference_) << "batch " << batch;
  }
}

TEST_F(DistributedRunnerTest, CheckpointsEveryStepOrByInterval) {
  DistributedPlan plan;
  plan.total = 5000;
  plan.batch = 1000;
  plan.checkpoint_every_s = 0;
  std::vector<uint64_t> seen;
  auto sink = [&](const Tally& merged, const TrajectoryRanges& done) {
    EXPECT_EQ(merged.trajectories, count_of(done));
    EXPECT_TRUE(merged.inconsistency().empty());
    seen.push_back(count_of(done));
  };
  run_distributed(*backend_, params(), plan, empty(), mpi(), nullptr, sink, nullptr);
  EXPECT_EQ(seen, (std::vector<uint64_t>{1000, 2000, 3000, 4000, 5000}));
  // A long interval: only the final checkpoint.
  seen.clear();
  plan.checkpoint_every_s = 3600;
  run_distributed(*backend_, params(), plan, empty(), mpi(), nullptr, sink, nullptr);
  EXPECT_EQ(seen, (std::vector<uint64_t>{5000}));
  // No checkpointing: the sink is never called.
  seen.clear();
  plan.checkpoint_every_s = -1;
  run_distributed(*backend_, params(), plan, empty(), mpi(), nullptr, sink, nullptr);
  EXPECT_TRUE(seen.empty());
}

TEST_F(DistributedRunnerTest, StopSignalCheckpointsThenResumeMatches) {
  DistributedPlan plan;
  plan.total = 5000;
  plan.batch = 700;
  plan.checkpoint_every_s = 3600;
  int polls = 0;
  Tally saved;
  TrajectoryRanges saved_done;
  auto sink = [&](const Tally& merged, const TrajectoryRanges& done) {
    saved = merged;
    saved_done = done;
  };
  // The "signal" arrives during the third step.
  auto poll = [&] { return ++polls >= 3 ? 10 /* SIGUSR1 */ : 0; };
  const DistributedResult r = run_distributed(*backend_, params(), plan, empty(), mpi(), nullptr, sink, poll);
  EXPECT_EQ(r.status, RunStatus::stopped);
  EXPECT_EQ(describe(r.done), "[0, 2100)");
  EXPECT_EQ(describe(saved_done), "[0, 2100)");
  EXPECT_NE(r.stop_reason.find("rank 0"), std::string::npos) << r.stop_reason;
  EXPECT_EQ(r.checkpoints, 1);

  // Resume with another batch size: same tally as one uninterrupted run.
  plan.done = saved_done;
  plan.batch = 1234;
  const DistributedResult rest = run_distributed(*backend_, params(), plan, saved, mpi(), nullptr, sink, nullptr);
  EXPECT_EQ(rest.status, RunStatus::complete);
  EXPECT_TRUE(rest.tally == *reference_);
  EXPECT_TRUE(saved == *reference_);  // the final checkpoint is the whole run
}

TEST_F(DistributedRunnerTest, ResumesFromScatteredRanges) {
  // A checkpoint may list several ranges (the format allows it): the rest is filled in.
  Tally base = empty();
  backend_->run(params(), 100, 400, base);
  backend_->run(params(), 3000, 1000, base);
  DistributedPlan plan;
  plan.total = 5000;
  plan.batch = 333;
  plan.done = {{100, 500}, {3000, 4000}};
  const DistributedResult r = run_distributed(*backend_, params(), plan, base, mpi(), nullptr, nullptr, nullptr);
  EXPECT_EQ(describe(r.done), "[0, 5000)");
  EXPECT_TRUE(r.tally == *reference_);
}

TEST_F(DistributedRunnerTest, TimeLimitStopsAtAStepBoundary) {
  DistributedPlan plan;
  plan.total = 5000;
  plan.batch = 500;
  plan.checkpoint_every_s = 3600;
  plan.deadline = std::chrono::steady_clock::now();  // already due: one step, then stop
  int writes = 0;
  const DistributedResult r = run_distributed(
      *backend_, params(), plan, empty(), mpi(), nullptr, [&](const Tally&, const TrajectoryRanges&) { ++writes; },
      nullptr);
  EXPECT_EQ(r.status, RunStatus::stopped);
  EXPECT_EQ(describe(r.done), "[0, 500)");
  EXPECT_EQ(r.stop_reason, "the time limit");
  EXPECT_EQ(writes, 1);
}

TEST_F(DistributedRunnerTest, LostCountsAreRefused) {
  // A base tally that claims fewer trajectories than its ranges: never reported as complete.
  Tally base = empty();
  backend_->run(params(), 0, 1000, base);
  base.trajectories -= 1;
  DistributedPlan plan;
  plan.total = 5000;
  plan.done = {{0, 1000}};
  EXPECT_THROW(run_distributed(*backend_, params(), plan, base, mpi(), nullptr, nullptr, nullptr), std::runtime_error);
}

TEST(MpiContextTest, ChunkedReductionOnOneRank) {
  std::vector<uint64_t> in(20), out(20, 0);
  for (size_t i = 0; i < in.size(); ++i) in[i] = i * i + (uint64_t{1} << 40);
  mpi().reduce_sum_to_root(in.data(), out.data(), in.size(), 3);  // 7 calls of at most 3 values
  EXPECT_EQ(in, out);
  EXPECT_EQ(mpi().bitwise_or(5u), 5u);
  std::vector<uint64_t> v{1, 2, 3};
  mpi().broadcast(v);
  EXPECT_EQ(v, (std::vector<uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace chipcast
