// Backend::run_calibrated's default: decide on the host, then re-run the accepted ranges with run().
#include "backends/backend.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "models/parity/trajectory.h"

namespace chipcast {

uint64_t Backend::run_calibrated(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& prior,
                                 Tally& posterior, CalibrationTally& decisions) {
  constexpr int kL = 16;
  run(p, first, count, prior);
  const int threads = omp_get_max_threads();
  std::vector<std::unique_ptr<DecisionPartial>> partials;
  for (int t = 0; t < threads; ++t) partials.push_back(std::make_unique<DecisionPartial>(p));
  // The decisions: a pure function of (seed, trajectory), so computing them
  // here gives what any backend's own first pass would.
  std::vector<uint8_t> accept(count, 0);
  const int64_t blocks = static_cast<int64_t>((count + kL - 1) / kL);
#pragma omp parallel num_threads(threads)
  {
    auto s = std::make_unique<parity::LaneState<kL>>();
    parity::DecisionCounts counts = partials[omp_get_thread_num()]->view();
#pragma omp for schedule(dynamic, 16)
    for (int64_t b = 0; b < blocks; ++b) {
      parity::init_lanes<kL>(p, first + static_cast<uint64_t>(b) * kL, *s);
      for (int k = 0; k < p.observed_periods; ++k) parity::step_lanes<kL, true>(p, k, *s);
      parity::accept_lanes<kL>(p, *s, s->accepted);
      const int used = static_cast<int>(std::min<int64_t>(kL, static_cast<int64_t>(count) - b * kL));
      parity::record_decisions<kL>(p, *s, used, counts);
      for (int l = 0; l < used; ++l) accept[b * kL + l] = s->accepted[l] != 0;
    }
  }
  uint64_t accepted = 0;
  for (uint64_t i = 0; i < count;) {
    if (!accept[i]) {
      ++i;
      continue;
    }
    uint64_t j = i;
    while (j < count && accept[j]) ++j;
    run(p, first + i, j - i, posterior);
    accepted += j - i;
    i = j;
  }
  // The accepted count goes with the first partial: the sums are what matter.
  for (int t = 0; t < threads; ++t) decisions.add(partials[t]->view(), t == 0 ? count : 0, t == 0 ? accepted : 0);
  return accepted;
}

}  // namespace chipcast
