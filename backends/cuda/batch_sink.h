// The GPU path's sink: per-trajectory bin buffers, direct atomic histograms, or crossing times (host and device).
#pragma once
#include <stdint.h>

#include "kernels/hist_sink.h"
#include "kernels/macros.h"
#include "kernels/tally_layout.h"

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

// One sink type for every GPU-path mode (a runtime switch, uniform across a
// launch), so the model is compiled into the simulate kernel once.
// Indices i are batch-local trajectory indices.
struct BatchSink {
  Aggregation mode = Aggregation::buffer;
  BatchBuffers buffers;      // buffer mode
  HistView hist;             // atomic mode: global uint32 histograms
  float* times = nullptr;    // times mode: [metric][times_count]
  int64_t times_count = 0;

  CC_FUNCTION void level(int k, int series, int64_t i, int bin) {
    if (mode == Aggregation::buffer) {
      const int64_t row = static_cast<int64_t>(k) * kNumSeries + series;
      buffers.level_bins[row * buffers.stride + i] = bin < 0 ? kNanBinCode : static_cast<uint16_t>(bin);
    } else if (mode == Aggregation::atomic) {
      if (bin < 0)
        atomic_add_u32(hist.anomalies + kAnomalyNanRatio, 1u);
      else
        atomic_add_u32(hist.level_row(k, series) + bin, 1u);
    }
  }
  CC_FUNCTION void crossing(int metric, int64_t i, int bin, float t) {
    if (mode == Aggregation::buffer)
      buffers.cross_bins[metric * buffers.stride + i] = bin;
    else if (mode == Aggregation::atomic)
      atomic_add_u32(hist.crossing_row(metric) + bin, 1u);
    else
      times[metric * times_count + i] = t;
  }
  CC_FUNCTION void censored(int metric, int64_t i) {
    const int bin = crossing_bins(hist.periods, hist.sub_bins) - 1;
    if (mode == Aggregation::buffer)
      buffers.cross_bins[metric * buffers.stride + i] = bin;
    else if (mode == Aggregation::atomic)
      atomic_add_u32(hist.crossing_row(metric) + bin, 1u);
    else
      times[metric * times_count + i] = -1.0f;
  }
};

}  // namespace chipcast::gpu
