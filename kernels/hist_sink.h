// Sink that counts a block's per-period results straight into integer histograms (one writer at a time).
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally_layout.h"

namespace chipcast {

// Histogram storage of one partial tally as plain pointers (host or device
// memory). Counts are 32-bit: a partial tally covers < 2^32 trajectories and
// is merged into the host's 64-bit Tally.
struct HistView {
  uint32_t* level = nullptr;      // [period][series][kLevelBins]
  uint32_t* crossing = nullptr;   // [metric][crossing_bins(periods, sub_bins)]
  uint32_t* anomalies = nullptr;  // [kNumAnomalies]
  int32_t periods = 0;
  int32_t sub_bins = 0;

  CC_FUNCTION uint32_t* level_row(int k, int series) const {
    return level + (static_cast<int64_t>(k) * kNumSeries + series) * kLevelBins;
  }
  CC_FUNCTION uint32_t* crossing_row(int metric) const {
    return crossing + static_cast<int64_t>(metric) * crossing_bins(periods, sub_bins);
  }
};

// Non-atomic sink for one thread's private histograms.
struct HistSink {
  HistView view;
  CC_FUNCTION void level(int k, int series, int64_t, int bin) {
    if (bin < 0) {
      ++view.anomalies[kAnomalyNanRatio];
      return;
    }
    ++view.level_row(k, series)[bin];
  }
  CC_FUNCTION void crossing(int metric, int64_t, int bin, float) { ++view.crossing_row(metric)[bin]; }
  CC_FUNCTION void censored(int metric, int64_t) {
    ++view.crossing_row(metric)[crossing_bins(view.periods, view.sub_bins) - 1];
  }
};

// Sink that keeps each lane's crossing time (years since start, -1 if
// censored) for cross-backend comparisons; levels are ignored.
struct CrossingTimeSink {
  float* times = nullptr;  // [metric][count], by batch-local trajectory index
  int64_t count = 0;
  CC_FUNCTION void level(int, int, int64_t, int) {}
  CC_FUNCTION void crossing(int metric, int64_t i, int, float t) { times[metric * count + i] = t; }
  CC_FUNCTION void censored(int metric, int64_t i) { times[metric * count + i] = -1.0f; }
};

}  // namespace chipcast
