// Backend::run_calibrated's default: decide on the host, then re-run the accepted ranges with run().
#include "backends/backend.h"

#include <omp.h>

#include <memory>
#include <vector>

#include "models/parity/trajectory.h"

namespace chipcast {

uint64_t Backend::run_calibrated(const parity::ModelParams& p, uint64_t first, uint64_t count, Tally& prior,
                                 Tally& posterior) {
  constexpr int kL = 16;
  run(p, first, count, prior);
  // The decisions: a pure function of (seed, trajectory), so computing them
  // here gives what any backend's own first pass would.
  std::vector<uint8_t> accept(count, 0);
  const int64_t blocks = static_cast<int64_t>((count + kL - 1) / kL);
#pragma omp parallel
  {
    auto s = std::make_unique<parity::LaneState<kL>>();
#pragma omp for schedule(dynamic, 16)
    for (int64_t b = 0; b < blocks; ++b) {
      parity::init_lanes<kL>(p, first + static_cast<uint64_t>(b) * kL, *s);
      for (int k = 0; k < p.observed_periods; ++k) parity::step_lanes<kL, true>(p, k, *s);
      parity::accept_lanes<kL>(p, *s, s->accepted);
      for (int l = 0; l < kL && b * kL + l < static_cast<int64_t>(count); ++l) accept[b * kL + l] = s->accepted[l] != 0;
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
  return accepted;
}

}  // namespace chipcast
