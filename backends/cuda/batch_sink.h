// The GPU path's sink: direct atomic adds into the histograms, or crossing times (host and device).
#pragma once
#include <stdint.h>

#include "kernels/hist_sink.h"
#include "kernels/macros.h"
#include "kernels/tally_layout.h"

namespace chipcast::gpu {

// What a batch's per-period results go to.
//  atomic: each trajectory adds its bins to the global uint32 histograms with
//          atomics (faster on an H100 than per-trajectory bin buffers counted
//          by histogram kernels afterwards, which were removed: bench/RESULTS.md);
//  times:  crossing times only, for Backend::crossing_times (diagnostic).
enum class Aggregation : int32_t { atomic = 1, times = 2 };

// Relaxed atomic add for histogram counts: atomicAdd in device code,
// the GCC/Clang builtin on the host (the Thrust OMP path's threads).
CC_FUNCTION void atomic_add_u32(uint32_t* p, uint32_t v) {
#if CHIPCAST_DEVICE_PASS
  atomicAdd(reinterpret_cast<unsigned int*>(p), static_cast<unsigned int>(v));
#else
  __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

// One sink type for both modes (a runtime switch, uniform across a launch),
// so the model is compiled into the simulate kernel once.
// Indices i are batch-local trajectory indices.
struct BatchSink {
  Aggregation mode = Aggregation::atomic;
  HistView hist;             // atomic mode: global uint32 histograms
  float* times = nullptr;    // times mode: [metric][times_count]
  int64_t times_count = 0;

  CC_FUNCTION void level(int k, int series, int64_t /*i*/, int bin) {
    if (mode != Aggregation::atomic) return;
    if (bin < 0)
      atomic_add_u32(hist.anomalies + kAnomalyNanRatio, 1u);
    else
      atomic_add_u32(hist.level_row(k, series) + bin, 1u);
  }
  CC_FUNCTION void crossing(int metric, int64_t i, int bin, float t) {
    if (mode == Aggregation::atomic)
      atomic_add_u32(hist.crossing_row(metric) + bin, 1u);
    else
      times[metric * times_count + i] = t;
  }
  CC_FUNCTION void censored(int metric, int64_t i) {
    if (mode == Aggregation::atomic)
      atomic_add_u32(hist.crossing_row(metric) + crossing_bins(hist.periods, hist.sub_bins) - 1, 1u);
    else
      times[metric * times_count + i] = -1.0f;
  }
};

}  // namespace chipcast::gpu
