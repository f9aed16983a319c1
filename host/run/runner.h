// Runs a scenario's trajectory range in batches on a backend, with progress.
#pragma once
#include <cstdint>

#include "backends/backend.h"
#include "host/run/progress.h"
#include "host/run/tally.h"

namespace chipcast {

struct RunPlan {
  uint64_t first = 0;      // first trajectory index
  uint64_t count = 0;      // trajectories to run
  uint64_t batch = 0;      // 0 = the backend's preferred batch
};

// Runs [first, first + count) in batches; the result does not depend on the
// batch size (integer tallies, counter-based random numbers).
Tally run_batches(Backend& backend, const parity::ModelParams& params, const RunPlan& plan, Progress* progress);

}  // namespace chipcast
