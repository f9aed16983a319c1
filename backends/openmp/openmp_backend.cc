// CPU backend: each thread runs chunks of lane blocks into its own partial tally (16-bit level counters, flushed into 32 bits).
#include "backends/openmp/openmp_backend.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/host_blocks.h"
#include "kernels/tally/sinks.h"
#include "models/parity/trajectory.h"
#include "tally/batch_merge.h"
#include "tally/hot_levels.h"
#include "tally/partial_tally.h"

namespace chipcast {
namespace {

using State = parity::LaneState<kHostLanes>;

// The workers' counts as batch_merge wants them. They are zero between
// batches (merge_rest), so a batch starts without clearing them.
std::vector<WorkerCounts> worker_counts(const std::vector<std::unique_ptr<PartialTally>>& partials,
                                        std::vector<HotLevels>& hot) {
  std::vector<WorkerCounts> w;
  for (size_t t = 0; t < partials.size(); ++t) w.push_back(WorkerCounts{partials[t].get(), &hot[t]});
  return w;
}

class OpenMPBackend final : public Backend {
 public:
  explicit OpenMPBackend(const BackendOptions& o) : threads_(o.threads > 0 ? o.threads : omp_get_max_threads()) {}

  std::string name() const override { return "openmp"; }
  std::string describe() const override {
    return "openmp: " + std::to_string(threads_) + " threads, " + std::to_string(kHostLanes) +
           " trajectories per SIMD block";
  }
  uint64_t preferred_batch() const override { return uint64_t{1} << 18; }

  void run(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& tally) override {
    if (count >= (uint64_t{1} << 32)) throw std::invalid_argument("openmp backend: batch must be < 2^32 trajectories");
    ensure_partials(p);
    const std::vector<WorkerCounts> workers = worker_counts(partials_, hot_);
    check_mergeable(workers.data(), threads_, tally);
    const int64_t chunks = static_cast<int64_t>((count + kHostChunk - 1) / kHostChunk);
#pragma omp parallel num_threads(threads_)
    {
      const int t = omp_get_thread_num();
      HotLevels& hot = hot_[t];
      HotSink sink = hot.sink(partials_[t]->view());
      std::vector<State>& states = states_[t];
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t begin = c * kHostChunk;
        const int64_t n = std::min<int64_t>(kHostChunk, static_cast<int64_t>(count) - begin);
        hot.before_chunk(n, sink.counters.view.level);
        parity::run_blocks<kHostLanes>(p, first + begin, n, begin, states.data(), sink);
      }
      // (the loop's barrier: every thread's counts are complete)
      merge_level_slice(t, omp_get_num_threads(), workers.data(), threads_, tally);
    }
    merge_rest(workers.data(), threads_, count, tally);
  }

  // Both passes per chunk (run_blocks_calibrated) into two partial tallies per thread.
  uint64_t run_calibrated(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& prior, Tally& posterior,
                          CalibrationTally& decisions) override {
    if (count >= (uint64_t{1} << 32)) throw std::invalid_argument("openmp backend: batch must be < 2^32 trajectories");
    ensure_partials(p);
    ensure_posterior_partials();
    // The decision counts' layout follows p's drawn parameters and observations: made per batch (small).
    std::vector<std::unique_ptr<DecisionPartial>> decision_partials;
    for (int t = 0; t < threads_; ++t) decision_partials.push_back(std::make_unique<DecisionPartial>(p));
    const std::vector<WorkerCounts> workers = worker_counts(partials_, hot_);
    const std::vector<WorkerCounts> post_workers = worker_counts(post_partials_, post_hot_);
    check_mergeable(workers.data(), threads_, prior);
    check_mergeable(post_workers.data(), threads_, posterior);
    const int64_t chunks = static_cast<int64_t>((count + kHostChunk - 1) / kHostChunk);
    int64_t accepted = 0;
#pragma omp parallel num_threads(threads_) reduction(+ : accepted)
    {
      const int t = omp_get_thread_num();
      HotLevels& hot = hot_[t];
      HotLevels& post_hot = post_hot_[t];
      HotSink sink = hot.sink(partials_[t]->view());
      HotSink post_sink = post_hot.sink(post_partials_[t]->view());
      parity::DecisionCounts counts = decision_partials[t]->view();
      std::vector<State>& states = states_[t];
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t begin = c * kHostChunk;
        const int64_t n = std::min<int64_t>(kHostChunk, static_cast<int64_t>(count) - begin);
        hot.before_chunk(n, sink.counters.view.level);
        post_hot.before_chunk(n, post_sink.counters.view.level);
        int64_t a = 0;
        parity::run_blocks_calibrated<kHostLanes>(p, first + begin, n, begin, states.data(), sink, post_sink, a,
                                                  &counts);
        accepted += a;
      }
      merge_level_slice(t, omp_get_num_threads(), workers.data(), threads_, prior);
      merge_level_slice(t, omp_get_num_threads(), post_workers.data(), threads_, posterior);
    }
    merge_rest(workers.data(), threads_, count, prior);
    merge_rest(post_workers.data(), threads_, static_cast<uint64_t>(accepted), posterior);
    for (int t = 0; t < threads_; ++t)
      decisions.add(decision_partials[t]->view(), t == 0 ? count : 0, t == 0 ? static_cast<uint64_t>(accepted) : 0);
    return static_cast<uint64_t>(accepted);
  }

  void crossing_times(const parity::ModelParams& p, uint64_t first, uint64_t count, float* out) override {
    const int64_t chunks = static_cast<int64_t>((count + kHostChunk - 1) / kHostChunk);
    CrossingTimeSink sink{out, static_cast<int64_t>(count)};
#pragma omp parallel num_threads(threads_)
    {
      std::vector<State> states(kHostBlocksPerChunk);
#pragma omp for schedule(dynamic, 1)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t begin = c * kHostChunk;
        const int64_t n = std::min<int64_t>(kHostChunk, static_cast<int64_t>(count) - begin);
        CrossingTimeSink local = sink;  // each chunk writes its own disjoint indices
        parity::run_blocks<kHostLanes>(p, first + begin, n, begin, states.data(), local);
      }
    }
  }

 private:
  void ensure_partials(const parity::ModelParams& p) {
    const TallyShape shape = parity::tally_shape(p);
    if (!partials_.empty() && shape_ == shape) return;
    partials_.clear();
    states_.assign(threads_, std::vector<State>(kHostBlocksPerChunk));
    for (int t = 0; t < threads_; ++t) partials_.push_back(std::make_unique<PartialTally>(shape));
    hot_.assign(threads_, HotLevels(shape));
    shape_ = shape;
  }

  // The posterior's partial tallies, made on the first calibrated batch (a plain run never needs them).
  void ensure_posterior_partials() {
    if (post_partials_.size() == partials_.size() && post_shape_ == shape_) return;
    post_partials_.clear();
    for (int t = 0; t < threads_; ++t) post_partials_.push_back(std::make_unique<PartialTally>(shape_));
    post_hot_.assign(threads_, HotLevels(shape_));
    post_shape_ = shape_;
  }

  int threads_;
  TallyShape shape_{-1, -1};
  TallyShape post_shape_{-1, -1};
  std::vector<std::unique_ptr<PartialTally>> post_partials_;
  std::vector<HotLevels> post_hot_;
  std::vector<std::unique_ptr<PartialTally>> partials_;
  std::vector<std::vector<State>> states_;
  std::vector<HotLevels> hot_;
};

}  // namespace

int openmp_max_threads() { return omp_get_max_threads(); }

std::unique_ptr<Backend> make_openmp_backend(const BackendOptions& options) {
  return std::make_unique<OpenMPBackend>(options);
}

}  // namespace chipcast
