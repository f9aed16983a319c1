// Batch loop.
#include "host/run/runner.h"

#include <algorithm>

namespace chipcast {

Tally run_batches(Backend& backend, const parity::ModelParams& params, const RunPlan& plan, Progress* progress) {
  Tally tally(params.periods, params.sub_bins);
  const uint64_t batch = plan.batch ? plan.batch : backend.preferred_batch();
  uint64_t done = 0;
  while (done < plan.count) {
    const uint64_t n = std::min(batch, plan.count - done);
    backend.run(params, plan.first + done, n, tally);
    done += n;
    if (progress) progress->update(done);
  }
  if (progress) progress->finish();
  return tally;
}

}  // namespace chipcast
