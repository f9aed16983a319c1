// Batch loops: a single range, and the distributed, checkpointed one.
#include "host/run/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "host/run/signals.h"

namespace chipcast {

Tally run_batches(Backend& backend, const parity::ModelParams& params, const RunPlan& plan, RunObserver* observer) {
  Tally tally(parity::tally_shape(params));
  const uint64_t batch = plan.batch ? plan.batch : backend.preferred_batch();
  uint64_t done = 0;
  while (done < plan.count) {
    const uint64_t n = std::min(batch, plan.count - done);
    backend.run(params, plan.first + done, n, tally);
    done += n;
    if (observer) observer->progress(done);
  }
  if (observer) observer->finished();
  return tally;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Decisions the ranks agree on after each step (bitwise OR over ranks).
enum StepFlag : unsigned {
  kStopSignal = 1u,      // some rank got a stop signal
  kStopTimeLimit = 2u,   // rank 0: the next step would not fit before the deadline
  kCheckpointDue = 4u,   // rank 0: the checkpoint interval has passed
  kStopSignalRoot = 8u,  // rank 0 itself got the signal (for the message)
};

// Sums every rank's `local` onto rank 0 and adds `base` there, into `sum`
// (rank 0; kept between calls so its ~30 MB are allocated once): sum =
// local + base, then an in-place MPI_Reduce adds the other ranks.
void reduce_to_root(const Tally& local, const Tally& base, const MpiContext& mpi, Tally& sum) {
  if (mpi.is_root()) {
    if (sum.level.size() != local.level.size() || sum.crossing.size() != local.crossing.size())
      sum = Tally(local.shape);
    const bool with_base = !base.level.empty();
    if (with_base && (base.level.size() != local.level.size() || base.crossing.size() != local.crossing.size()))
      throw std::invalid_argument("the resumed tally's shape differs from this run's");
    for (size_t i = 0; i < sum.level.size(); ++i) sum.level[i] = local.level[i] + (with_base ? base.level[i] : 0);
    for (size_t i = 0; i < sum.crossing.size(); ++i)
      sum.crossing[i] = local.crossing[i] + (with_base ? base.crossing[i] : 0);
    for (size_t i = 0; i < sum.anomalies.size(); ++i)
      sum.anomalies[i] = local.anomalies[i] + (with_base ? base.anomalies[i] : 0);
    sum.trajectories = local.trajectories + (with_base ? base.trajectories : 0);
  }
  const Tally& in = mpi.is_root() ? sum : local;
  uint64_t* out_level = mpi.is_root() ? sum.level.data() : nullptr;
  uint64_t* out_crossing = mpi.is_root() ? sum.crossing.data() : nullptr;
  mpi.reduce_sum_to_root(in.level.data(), out_level, in.level.size());
  mpi.reduce_sum_to_root(in.crossing.data(), out_crossing, in.crossing.size());
  // Anomalies and the trajectory count in one small message.
  std::vector<uint64_t> small(in.anomalies.begin(), in.anomalies.end());
  small.push_back(in.trajectories);
  mpi.reduce_sum_to_root(small.data(), mpi.is_root() ? small.data() : nullptr, small.size());
  if (!mpi.is_root()) return;
  std::copy(small.begin(), small.end() - 1, sum.anomalies.begin());
  sum.trajectories = small.back();
}

// reduce_to_root for the decision counts and posterior of a calibrate run.
void reduce_calibrate_to_root(const CalibrateTallies& local, const CalibrateTallies* base, const MpiContext& mpi,
                              CalibrateTallies& sum) {
  Tally no_base;
  reduce_to_root(local.posterior, base ? base->posterior : no_base, mpi, sum.posterior);
  const CalibrationTally& d = local.decisions;
  if (mpi.is_root()) {
    sum.decisions = d;
    if (base) sum.decisions.merge(base->decisions);
  }
  const CalibrationTally& in = mpi.is_root() ? sum.decisions : d;
  CalibrationTally& out = sum.decisions;
  const bool root = mpi.is_root();
  mpi.reduce_sum_to_root(in.prior_u.data(), root ? out.prior_u.data() : nullptr, in.prior_u.size());
  mpi.reduce_sum_to_root(in.posterior_u.data(), root ? out.posterior_u.data() : nullptr, in.posterior_u.size());
  mpi.reduce_sum_to_root(in.prior_obs.data(), root ? out.prior_obs.data() : nullptr, in.prior_obs.size());
  mpi.reduce_sum_to_root(in.posterior_obs.data(), root ? out.posterior_obs.data() : nullptr, in.posterior_obs.size());
  std::vector<uint64_t> small(in.rejects.begin(), in.rejects.end());
  small.push_back(in.trajectories);
  small.push_back(in.accepted);
  mpi.reduce_sum_to_root(small.data(), root ? small.data() : nullptr, small.size());
  if (!root) return;
  std::copy(small.begin(), small.end() - 2, out.rejects.begin());
  out.trajectories = small[small.size() - 2];
  out.accepted = small.back();
}

// Refuses merged calibrate tallies that do not agree with the prior's count.
void check_merged_calibrate(const CalibrateTallies& merged, const TrajectoryRanges& done, int ranks) {
  const uint64_t want = count_of(done);
  if (merged.decisions.trajectories != want || merged.posterior.trajectories != merged.decisions.accepted)
    throw std::runtime_error(fmt::format(
        "the calibrate tallies merged over {} ranks decided {} trajectories and hold {} accepted ones, but {} were "
        "run and {} accepted: a rank's contribution was lost or doubled; nothing was written",
        ranks, merged.decisions.trajectories, merged.posterior.trajectories, want, merged.decisions.accepted));
  if (const std::string why = merged.posterior.inconsistency(); !why.empty())
    throw std::runtime_error("the merged posterior tally is inconsistent (" + why + "); nothing was written");
  if (const std::string why = merged.decisions.inconsistency(); !why.empty())
    throw std::runtime_error("the merged decision counts are inconsistent (" + why + "); nothing was written");
}

// Refuses a merged tally that does not cover exactly the ranges done.
void check_merged(const Tally& merged, const TrajectoryRanges& done, int ranks) {
  const uint64_t want = count_of(done);
  if (merged.trajectories != want)
    throw std::runtime_error(fmt::format(
        "the tallies merged over {} ranks cover {} trajectories, but {} were run: a rank's contribution was "
        "lost or doubled; nothing was written",
        ranks, merged.trajectories, want));
  if (const std::string why = merged.inconsistency(); !why.empty())
    throw std::runtime_error("the merged tally is inconsistent (" + why + "); nothing was written");
}

}  // namespace

DistributedResult run_distributed(Backend& backend, const parity::ModelParams& params, const DistributedPlan& plan,
                                  const Tally& base, const MpiContext& mpi, RunObserver* observer,
                                  const CheckpointSink& checkpoint, const StopPoll& poll_stop) {
  TalliesCheckpointSink sink;
  if (checkpoint)
    sink = [&](const Tally& merged, const CalibrateTallies*, const TrajectoryRanges& done) {
      checkpoint(merged, done);
    };
  return run_distributed(backend, params, plan, base, nullptr, mpi, observer, sink, poll_stop);
}

DistributedResult run_distributed(Backend& backend, const parity::ModelParams& params, const DistributedPlan& plan,
                                  const Tally& base, const CalibrateTallies* calibrate_base, const MpiContext& mpi,
                                  RunObserver* observer, const TalliesCheckpointSink& checkpoint,
                                  const StopPoll& poll_stop) {
  const bool root = mpi.is_root();
  const uint64_t ranks = static_cast<uint64_t>(mpi.size());
  const uint64_t rank = static_cast<uint64_t>(mpi.rank());
  const uint64_t batch = plan.batch ? plan.batch : backend.preferred_batch();
  const bool checkpointing = plan.checkpoint_every_s >= 0;
  if (batch == 0) throw std::invalid_argument("batch size must be positive");

  DistributedResult result;
  result.done = plan.done;
  TrajectoryRanges remaining = complement(plan.done, plan.total);
  uint64_t left = count_of(remaining);
  Tally local(parity::tally_shape(params));
  Tally merged;                 // rank 0: the latest reduction
  bool merged_current = false;  // `merged` includes every step run so far
  std::optional<CalibrateTallies> local_cal, merged_cal;
  if (plan.calibrate) {
    local_cal.emplace(params);
    merged_cal.emplace(params);
  }
  auto reduce = [&] {
    reduce_to_root(local, base, mpi, merged);
    if (local_cal) reduce_calibrate_to_root(*local_cal, calibrate_base, mpi, *merged_cal);
  };
  auto check = [&] {
    check_merged(merged, result.done, mpi.size());
    if (merged_cal) check_merged_calibrate(*merged_cal, result.done, mpi.size());
  };

  Clock::time_point last_checkpoint = Clock::now();
  double longest_step = 0, last_checkpoint_cost = 0;

  auto write_checkpoint_now = [&] {
    const Clock::time_point t = Clock::now();
    reduce();
    merged_current = true;
    if (root) {
      check();
      if (checkpoint) checkpoint(merged, merged_cal ? &*merged_cal : nullptr, result.done);
      last_checkpoint_cost = seconds_since(t);
      result.checkpoint_seconds += last_checkpoint_cost;
      ++result.checkpoints;
    }
    last_checkpoint = Clock::now();
  };

  while (left > 0) {
    const Clock::time_point step_start = Clock::now();
    const uint64_t step_n = batch >= (left + ranks - 1) / ranks ? left : ranks * batch;
    const TrajectoryRanges step = take_front(remaining, step_n);
    left -= step_n;
    // Rank r's share: a balanced contiguous part of the step.
    const uint64_t q = step_n / ranks, extra = step_n % ranks;
    const uint64_t lo = rank * q + std::min(rank, extra);
    const uint64_t hi = lo + q + (rank < extra ? 1 : 0);
    for (const TrajectoryRange& piece : slice(step, lo, hi)) {
      if (local_cal)
        backend.run_calibrated(params, piece.first, piece.count(), local, local_cal->posterior, local_cal->decisions);
      else
        backend.run(params, piece.first, piece.count(), local);
    }
    for (const TrajectoryRange& r : step) add_range(result.done, r);
    merged_current = false;
    const bool finished = left == 0;

    unsigned flags = 0;
    if (const int sig = poll_stop ? poll_stop() : 0; sig != 0) flags |= kStopSignal | (root ? kStopSignalRoot : 0u);
    if (root) {
      longest_step = std::max(longest_step, seconds_since(step_start));
      if (plan.deadline && !finished &&
          Clock::now() + std::chrono::duration<double>(longest_step + last_checkpoint_cost) >= *plan.deadline)
        flags |= kStopTimeLimit;
      if (checkpointing && (plan.checkpoint_every_s == 0 || seconds_since(last_checkpoint) >= plan.checkpoint_every_s))
        flags |= kCheckpointDue;
    }
    const Clock::time_point sync_start = Clock::now();
    flags = mpi.bitwise_or(flags);
    result.sync_seconds += seconds_since(sync_start);
    const bool stopping = !finished && (flags & (kStopSignal | kStopTimeLimit));
    if (checkpointing && (finished || stopping || (flags & kCheckpointDue))) write_checkpoint_now();
    if (root && observer) observer->progress(count_of(result.done));
    if (stopping) {
      // No rank leaves before rank 0 has written the checkpoint: a launcher
      // may end the job as soon as one rank exits.
      mpi.bitwise_or(0);
      result.status = RunStatus::stopped;
      if (flags & kStopSignalRoot)
        result.stop_reason = fmt::format("{} on rank 0", signal_name(poll_stop()));
      else if (flags & kStopSignal)
        result.stop_reason = "a stop signal on another rank";
      else
        result.stop_reason = "the time limit";
      break;
    }
  }
  if (root && observer) observer->finished();
  if (!merged_current) reduce();
  if (root) {
    check();
    if (result.status == RunStatus::complete && count_of(result.done) != plan.total)
      throw std::runtime_error(
          fmt::format("the run covers {} of {} trajectories; nothing was written", count_of(result.done), plan.total));
    result.tally = std::move(merged);
    if (merged_cal) result.calibrate = std::move(merged_cal);
  }
  return result;
}

}  // namespace chipcast
