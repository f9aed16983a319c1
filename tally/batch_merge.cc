// Parallel end-of-batch merges of the CPU backends' worker counts.
#include "tally/batch_merge.h"

#include <algorithm>
#include <stdexcept>

namespace chipcast {

void check_mergeable(const WorkerCounts* workers, int n, const Tally& tally) {
  for (int w = 0; w < n; ++w)
    if (workers[w].partial->view().shape != tally.shape || workers[w].hot->entries() != tally.level.size())
      throw std::invalid_argument("cannot merge a worker's counts into a tally of a different shape");
}

void merge_level_slice(int slice, int slices, const WorkerCounts* workers, int n, Tally& tally) {
  constexpr size_t kRun = 4096;
  const size_t entries = tally.level.size();
  const size_t runs = (entries + kRun - 1) / kRun;
  const size_t lo = std::min(entries, runs * static_cast<size_t>(slice) / static_cast<size_t>(slices) * kRun);
  const size_t hi = std::min(entries, runs * static_cast<size_t>(slice + 1) / static_cast<size_t>(slices) * kRun);
  uint64_t* level = tally.level.data();
  for (size_t a = lo; a < hi; a += kRun) {
    const size_t b = std::min(hi, a + kRun);
    for (int w = 0; w < n; ++w) {
      uint32_t* wide = workers[w].partial->view().level;
      uint16_t* hot = workers[w].hot->counts();
      for (size_t i = a; i < b; ++i) level[i] += uint64_t{wide[i]} + hot[i];
      std::fill(wide + a, wide + b, 0u);
      std::fill(hot + a, hot + b, uint16_t{0});
    }
  }
}

void merge_rest(const WorkerCounts* workers, int n, uint64_t trajectories, Tally& tally) {
  for (int w = 0; w < n; ++w) {
    const HistView v = workers[w].partial->view();
    tally.add_all_but_levels(v, 0);
    std::fill(v.crossing, v.crossing + tally.crossing.size(), 0u);
    std::fill(v.anomalies, v.anomalies + tally.anomalies.size(), 0u);
    workers[w].hot->mark_empty();
  }
  tally.trajectories += trajectories;
}

}  // namespace chipcast
