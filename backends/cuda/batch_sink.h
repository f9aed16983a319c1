// The GPU path's sink: direct atomic adds into the histograms, or crossing times (host and device).
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/hist_view.h"
#include "kernels/tally/sinks.h"
#include "kernels/tally/tally_layout.h"

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

// ViewCounters (kernels/tally/sinks.h) with device (or host builtin) atomics;
// the counting rules are CountSink's.
struct AtomicViewCounters {
  HistView view;
  CC_FUNCTION void add_level(int k, int series, int bin) { atomic_add_u32(view.level_row(k, series) + bin, 1u); }
  CC_FUNCTION void add_anomaly(int a) { atomic_add_u32(view.anomalies + a, 1u); }
  CC_FUNCTION void add_crossing(int metric, int bin) { atomic_add_u32(view.crossing_row(metric) + bin, 1u); }
  CC_FUNCTION TallyShape shape() const { return view.shape; }
};
using AtomicHistSink = CountSink<AtomicViewCounters>;

// One sink type for both modes (a runtime switch, uniform across a launch),
// so the model is compiled into the simulate kernel once.
// Indices i are batch-local trajectory indices.
struct BatchSink {
  Aggregation mode = Aggregation::atomic;
  HistView hist;           // atomic mode: global uint32 histograms
  CrossingTimeSink times;  // times mode

  CC_FUNCTION void level(int k, int series, int64_t i, int bin) {
    if (mode == Aggregation::atomic) atomic().level(k, series, i, bin);
  }
  CC_FUNCTION void crossing(int metric, int64_t i, int bin, float t) {
    if (mode == Aggregation::atomic)
      atomic().crossing(metric, i, bin, t);
    else
      times.crossing(metric, i, bin, t);
  }
  CC_FUNCTION void censored(int metric, int64_t i) {
    if (mode == Aggregation::atomic)
      atomic().censored(metric, i);
    else
      times.censored(metric, i);
  }

  // The atomic mode's counting, as every counting sink does it.
  CC_FUNCTION AtomicHistSink atomic() const { return AtomicHistSink{AtomicViewCounters{hist}}; }
};

}  // namespace chipcast::gpu
