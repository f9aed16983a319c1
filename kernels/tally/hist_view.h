// A 32-bit partial tally as plain pointers (host or device memory), with its shape.
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_shape.h"

namespace chipcast {

// Counts are 32-bit: a partial tally covers < 2^32 trajectories and is merged
// into the host's 64-bit Tally (tally/tally.h).
struct HistView {
  uint32_t* level = nullptr;      // [shape.level_entries()]
  uint32_t* crossing = nullptr;   // [shape.crossing_entries()]
  uint32_t* anomalies = nullptr;  // [kNumAnomalies]
  TallyShape shape;

  // A view of one block of shape.level_entries() + shape.crossing_entries() +
  // kNumAnomalies counts, in that order.
  CC_FUNCTION static HistView of_block(uint32_t* base, TallyShape s) {
    HistView v;
    v.level = base;
    v.crossing = base + s.level_entries();
    v.anomalies = v.crossing + s.crossing_entries();
    v.shape = s;
    return v;
  }
  CC_FUNCTION static int64_t block_entries(TallyShape s) {
    return s.level_entries() + s.crossing_entries() + kNumAnomalies;
  }

  CC_FUNCTION uint32_t* level_row(int k, int series) const {
    CC_ASSERT(k >= 0 && k < shape.level_rows() && series >= 0 && series < kNumSeries);
    return level + shape.level_offset(k, series);
  }
  CC_FUNCTION uint32_t* crossing_row(int metric) const {
    CC_ASSERT(metric >= 0 && metric < kNumMetrics);
    return crossing + shape.crossing_offset(metric);
  }
};

}  // namespace chipcast
