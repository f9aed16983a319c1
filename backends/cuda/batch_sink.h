// The GPU path's sink: per-trajectory bin buffers, direct atomic histograms, or crossing times (host and device).
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/hist_view.h"
#include "kernels/tally/sinks.h"
#include "kernels/tally/tally_layout.h"

namespace chipcast::gpu {

// How a batch's per-period results reach the histograms.
//  buffer: each trajectory writes its level bins (uint16) and crossing bins
//          (int32) into batch buffers; histogram kernels count them afterwards.
//  atomic: each trajectory adds to the global histograms with atomics.
//  times:  crossing times only, for Backend::crossing_times (diagnostic).
enum class Aggregation : int32_t { buffer = 0, atomic = 1, times = 2 };

// Buffer code of a NaN ratio (level_bin never returns it: kLevelBins < 0xFFFF).
constexpr uint16_t kNanBinCode = 0xFFFFu;
static_assert(kLevelBins < kNanBinCode, "level bins must fit in uint16 below the NaN code");

// Relaxed atomic add for histogram counts: atomicAdd in device code,
// the GCC/Clang builtin on the host (the Thrust OMP path's threads).
CC_FUNCTION void atomic_add_u32(uint32_t* p, uint32_t v) {
#if CHIPCAST_DEVICE_PASS
  atomicAdd(reinterpret_cast<unsigned int*>(p), static_cast<unsigned int>(v));
#else
  __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

// Per-trajectory bin buffers of one batch, trajectory index fastest so that
// a warp's stores and the histogram kernels' loads are contiguous.
struct BatchBuffers {
  uint16_t* level_bins = nullptr;  // [period * kNumSeries + series][stride]
  int32_t* cross_bins = nullptr;   // [metric][stride]
  int64_t stride = 0;              // >= trajectories in the batch, a multiple of kStrideAlign

  static constexpr int64_t kStrideAlign = 64;  // 128-byte rows for uint16, 16-byte vector loads
  CC_FUNCTION static int64_t stride_for(int64_t count) {
    return (count + kStrideAlign - 1) / kStrideAlign * kStrideAlign;
  }
  // Device bytes per trajectory of batch capacity.
  CC_FUNCTION static int64_t bytes_per_trajectory(int periods) {
    return static_cast<int64_t>(periods) * kNumSeries * static_cast<int64_t>(sizeof(uint16_t)) +
           kNumMetrics * static_cast<int64_t>(sizeof(int32_t));
  }
};

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

// One sink type for every GPU-path mode (a runtime switch, uniform across a
// launch), so the model is compiled into the simulate kernel once.
// Indices i are batch-local trajectory indices.
struct BatchSink {
  Aggregation mode = Aggregation::buffer;
  BatchBuffers buffers;      // buffer mode
  HistView hist;             // atomic mode: global uint32 histograms
  CrossingTimeSink times;    // times mode

  CC_FUNCTION void level(int k, int series, int64_t i, int bin) {
    if (mode == Aggregation::buffer) {
      const int64_t row = static_cast<int64_t>(k) * kNumSeries + series;
      buffers.level_bins[row * buffers.stride + i] = bin < 0 ? kNanBinCode : static_cast<uint16_t>(bin);
    } else if (mode == Aggregation::atomic) {
      atomic().level(k, series, i, bin);
    }
  }
  CC_FUNCTION void crossing(int metric, int64_t i, int bin, float t) {
    if (mode == Aggregation::buffer)
      buffers.cross_bins[metric * buffers.stride + i] = bin;
    else if (mode == Aggregation::atomic)
      atomic().crossing(metric, i, bin, t);
    else
      times.crossing(metric, i, bin, t);
  }
  CC_FUNCTION void censored(int metric, int64_t i) {
    if (mode == Aggregation::buffer)
      buffers.cross_bins[metric * buffers.stride + i] = hist.shape.censored_bin();
    else if (mode == Aggregation::atomic)
      atomic().censored(metric, i);
    else
      times.censored(metric, i);
  }

  // The atomic mode's counting, as every counting sink does it.
  CC_FUNCTION AtomicHistSink atomic() const { return AtomicHistSink{AtomicViewCounters{hist}}; }
};

}  // namespace chipcast::gpu
