// 16-bit level counters in front of a 32-bit partial tally, for the CPU backends (OpenMP, Kokkos on the host).
#pragma once
#include <stdint.h>

#include <vector>

#include "kernels/tally/sinks.h"
#include "kernels/tally/tally_shape.h"

namespace chipcast {

// Level counts go first into 16-bit counters (HotSink, kernels/tally/sinks.h),
// flushed into the thread's 32-bit partial tally before any could overflow:
// half the bytes for the increments to touch. Each chunk of trajectories
// touches its rows of every period (the whole level tally, 7.3 MB in 16 bits
// for the baseline's 136 periods, more than a core's L2), so the tally's
// memory traffic is the part of the model's time that other work on the
// machine slows; 16-bit counters ran the baseline 2-18 % faster on the
// development VM (bench/RESULTS.md).
class HotLevels {
 public:
  // At most this many trajectories are counted between flushes: each adds at
  // most one count to a bin, so no 16-bit counter can overflow.
  static constexpr int64_t kFlushAfter = 65535;

  explicit HotLevels(TallyShape shape) : counts_(static_cast<size_t>(shape.level_entries()), 0) {}
  uint16_t* counts() { return counts_.data(); }
  size_t entries() const { return counts_.size(); }

  // A sink counting levels here and the rest into `partial`.
  HotSink sink(const HistView& partial) { return HotSink{HotCounters{{partial}, counts_.data()}}; }

  // Before counting a chunk of n trajectories: flushes first if the chunk
  // could overflow a counter.
  void before_chunk(int64_t n, uint32_t* level) {
    if (pending_ + n > kFlushAfter) flush(level);
    pending_ += n;
  }

  // Adds the 16-bit counts into `level` (32-bit, the same layout as
  // HistView::level) and zeroes them.
  void flush(uint32_t* level) {
    uint16_t* c = counts_.data();
    const size_t n = counts_.size();
    for (size_t i = 0; i < n; ++i) {
      if (c[i] == 0) continue;  // most bins of most rows are empty
      level[i] += c[i];
      c[i] = 0;
    }
    pending_ = 0;
  }

  // After every counter was zeroed elsewhere (merge_level_slice, tally/batch_merge.h).
  void mark_empty() { pending_ = 0; }

 private:
  std::vector<uint16_t> counts_;
  int64_t pending_ = 0;  // trajectories counted since the last flush
};

}  // namespace chipcast
