// Runs a scenario's trajectory range in batches on a backend, with progress; across MPI ranks with checkpoints.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "backends/backend.h"
#include "host/run/mpi_context.h"
#include "host/run/run_observer.h"
#include "host/run/trajectory_ranges.h"
#include "tally/calibration_tally.h"
#include "tally/tally.h"

namespace chipcast {

struct RunPlan {
  uint64_t first = 0;  // first trajectory index
  uint64_t count = 0;  // trajectories to run
  uint64_t batch = 0;  // 0 = the backend's preferred batch
};

// Runs [first, first + count) in batches; the result does not depend on the
// batch size (integer tallies, counter-based random numbers).
// `observer`, if set, gets progress() after each batch and finished() at the end.
Tally run_batches(Backend& backend, const parity::ModelParams& params, const RunPlan& plan, RunObserver* observer);

// A run of [0, total) split across the ranks of an MpiContext.
//
// Work goes in steps: each step takes the next `size * batch` trajectories
// not yet done (in index order) and gives rank r the r-th contiguous share,
// so every rank's batches interleave with the others' and, after each step,
// the trajectories done are again a few ranges (one, [0, done), when the run
// started from scratch) whatever the rank count. A checkpoint written by R
// ranks therefore resumes on any other number of ranks, and steps stay
// balanced. After each step the ranks agree (one small MPI_Allreduce) on
// whether to stop or checkpoint.
struct DistributedPlan {
  uint64_t total = 0;
  uint64_t batch = 0;     // per rank and step; 0 = the backend's preferred batch
  TrajectoryRanges done;  // already counted in `base` (from a checkpoint)
  // < 0: never checkpoint; 0: after every step; > 0: after a step once at
  // least this many seconds have passed since the last checkpoint. A
  // checkpoint is always written when the run completes or stops early.
  double checkpoint_every_s = -1;
  // Stop at a step boundary, early enough that one more step and a
  // checkpoint would not pass it (steady clock, judged on rank 0).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // A calibrate run (MODEL-v2.md section 8; params carry observations): each
  // piece through Backend::run_calibrated, into the prior (`tally`) and the
  // CalibrateTallies, which are reduced, checked and checkpointed alike.
  bool calibrate = false;
};

enum class RunStatus { complete, stopped };

struct DistributedResult {
  RunStatus status = RunStatus::complete;
  Tally tally;                                // rank 0: merged over all ranks plus `base`; other ranks: empty
  std::optional<CalibrateTallies> calibrate;  // rank 0 of a calibrate run: the same for its other tallies
  TrajectoryRanges done;                      // trajectories in `tally` (every rank knows them)
  std::string stop_reason;                    // why a stopped run stopped, e.g. "SIGUSR1 on rank 0", "the time limit"
  int checkpoints = 0;                        // rank 0: checkpoints written
  double checkpoint_seconds = 0;              // rank 0: time in reductions and writes for them
  double sync_seconds = 0;                    // this rank's time in the per-step agreement (waiting for slower ranks)
};

// Rank 0 receives each checkpoint: the merged tally and the ranges it covers.
using CheckpointSink = std::function<void(const Tally& merged, const TrajectoryRanges& done)>;
// The same for a calibrate run: `calibrate` also merged (null for a plain run).
using TalliesCheckpointSink =
    std::function<void(const Tally& merged, const CalibrateTallies* calibrate, const TrajectoryRanges& done)>;
// Polled after every step: a stop request (signal number), 0 for none.
using StopPoll = std::function<int()>;

// Runs what `plan` leaves to do. Every rank calls it with the same plan;
// `base` (rank 0 only; empty elsewhere) holds the tally of plan.done.
// `observer` (its progress() after every step and finished() at the end;
// the caller says started()) and `checkpoint` are used on rank 0 only. Throws
// std::runtime_error on rank 0 when the merged counts do not cover exactly
// the trajectories done (a lost contribution): outputs must not be written.
DistributedResult run_distributed(Backend& backend, const parity::ModelParams& params, const DistributedPlan& plan,
                                  const Tally& base, const MpiContext& mpi, RunObserver* observer,
                                  const CheckpointSink& checkpoint, const StopPoll& poll_stop);
// The one loop behind both: `calibrate_base` (rank 0, with plan.calibrate;
// null to start from empty ones) holds the calibrate tallies of plan.done.
DistributedResult run_distributed(Backend& backend, const parity::ModelParams& params, const DistributedPlan& plan,
                                  const Tally& base, const CalibrateTallies* calibrate_base, const MpiContext& mpi,
                                  RunObserver* observer, const TalliesCheckpointSink& checkpoint,
                                  const StopPoll& poll_stop);

}  // namespace chipcast
