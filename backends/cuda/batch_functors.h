// Index functors of the GPU path (simulate a block of trajectories; count bin buffers), shared by the CUDA/HIP kernels and the Thrust OMP path.
#pragma once
#include <stdint.h>

#include "backends/cuda/batch_sink.h"
#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/trajectory.h"

namespace chipcast::gpu {

// Runs block b of L trajectories (batch-local indices b*L .. b*L+L-1) through
// every period into `sink`. A GPU thread is one block of L = 1; the Thrust
// OMP path may use L = 16, the OpenMP backend's lane width, so that it
// computes bit-for-bit what that backend computes.
template <int L>
struct SimulateBlocks {
  const parity::ModelParams* params = nullptr;  // device (or OMP-system) memory
  uint64_t first = 0;                           // trajectory index of batch-local 0
  int64_t count = 0;                            // trajectories in the batch
  BatchSink sink;

  CC_FUNCTION void operator()(int64_t block) const {
    const parity::ModelParams& p = *params;
    const int64_t base = block * L;
    const int64_t left = count - base;
    const int n = static_cast<int>(left < L ? left : L);
    BatchSink out = sink;
    parity::LaneState<L> s;
    parity::init_lanes<L>(p, first + static_cast<uint64_t>(base), s);
    for (int k = 0; k < p.periods; ++k) {
      parity::step_lanes<L>(p, k, s);
      parity::record_period<L>(s, k, n, base, out);
    }
    parity::record_censored<L>(s, n, base, out);
  }
};

// Counts one buffer code into a level histogram row (anomaly for a NaN code).
CC_FUNCTION bool is_level_code(uint32_t code) { return code < static_cast<uint32_t>(kLevelBins); }

// Host form of the level-row histogram: task t counts chunk t % chunks of row
// t / chunks into a private histogram, then adds its non-zero bins to the
// global row with atomics. The GPU kernel does the same with the private
// histogram in shared memory and a block of threads per task.
struct LevelRowHistogram {
  const uint16_t* codes = nullptr;  // BatchBuffers::level_bins
  int64_t stride = 0;
  int64_t count = 0;  // valid entries per row
  int64_t chunk = 0;  // entries per task
  int64_t chunks = 0; // tasks per row
  uint32_t* level = nullptr;      // HistView::level, [row][kLevelBins]
  uint32_t* anomalies = nullptr;  // HistView::anomalies

  CC_FUNCTION void operator()(int64_t task) const {
    const int64_t row = task / chunks;
    const int64_t begin = (task % chunks) * chunk;
    const int64_t end = begin + chunk < count ? begin + chunk : count;
    uint32_t local[kLevelBins];
    for (int b = 0; b < kLevelBins; ++b) local[b] = 0;
    uint32_t nan = 0;
    const uint16_t* v = codes + row * stride;
    for (int64_t j = begin; j < end; ++j) {
      const uint32_t c = v[j];
      if (is_level_code(c))
        ++local[c];
      else
        ++nan;
    }
    uint32_t* out = level + row * kLevelBins;
    for (int b = 0; b < kLevelBins; ++b)
      if (local[b]) atomic_add_u32(out + b, local[b]);
    if (nan) atomic_add_u32(anomalies + kAnomalyNanRatio, nan);
  }
};

// Host stand-in for the device-wide crossing histogram (cub/rocprim
// histogram_even on a GPU): entry t = metric * count + i adds one count.
struct CrossingBinHistogram {
  const int32_t* bins = nullptr;  // BatchBuffers::cross_bins
  int64_t stride = 0;
  int64_t count = 0;
  HistView hist;
  CC_FUNCTION void operator()(int64_t t) const {
    const int64_t metric = t / count;
    const int64_t i = t % count;
    atomic_add_u32(hist.crossing_row(static_cast<int>(metric)) + bins[metric * stride + i], 1u);
  }
};

}  // namespace chipcast::gpu
