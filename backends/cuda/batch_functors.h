// The GPU path's index functor (simulate a block of trajectories into a BatchSink), shared by the CUDA/HIP kernel and the Thrust OMP path.
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

}  // namespace chipcast::gpu
