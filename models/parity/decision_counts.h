// The counters a calibrate run's decisions go into, and the per-lane recording of each block's decisions.
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "kernels/tally/uniform_bins.h"
#include "models/parity/lane_state.h"
#include "models/parity/params.h"
#include "models/parity/sampling_design.h"

namespace chipcast::parity {

// A 32-bit view of a thread's (or device's) decision counts: one histogram of
// kUniformBins bins per drawn parameter, of every trajectory (prior_u) and of
// the accepted ones (posterior_u), and per observation the trajectories its
// factor alone would reject. slot[i] is parameter i's row, -1 when fixed.
struct DecisionCounts {
  int32_t slot[kMaxParams];
  uint32_t* prior_u = nullptr;
  uint32_t* posterior_u = nullptr;
  uint32_t* rejects = nullptr;
  uint32_t* prior_obs = nullptr;      // [observation][kLevelBins]: each observation's simulated value
  uint32_t* posterior_obs = nullptr;  // the same, accepted trajectories only

  CC_FUNCTION void parameter(int i, int bin, bool accepted) {
    const int r = slot[i];
    CC_ASSERT(r >= 0 && bin >= 0 && bin < kUniformBins);
    ++prior_u[r * kUniformBins + bin];
    if (accepted) ++posterior_u[r * kUniformBins + bin];
  }
  CC_FUNCTION void rejected(int observation) { ++rejects[observation]; }
  CC_FUNCTION void observed(int observation, int bin, bool accepted) {
    if (bin < 0) return;  // a NaN total: no bin (the trajectory is rejected)
    CC_ASSERT(bin < kLevelBins);
    ++prior_obs[observation * kLevelBins + bin];
    if (accepted) ++posterior_obs[observation * kLevelBins + bin];
  }
};

// After accept_lanes: lanes [0, n) of block `s` into `counts`: each drawn
// parameter's uniform (recomputed from (seed, trajectory): the same words
// init_lanes drew) in its bin, and each observation that rejects the lane
// on its own (LaneState::rejected_by), and each observation's simulated
// value's level bin (LaneState::obs_bin).
template <int L>
CC_FUNCTION void record_decisions(const ModelParams& p, const LaneState<L>& s, int n, DecisionCounts& counts) {
  double u[kMaxParams][L];
  parameter_uniforms<L>(p, s.first, u);
  for (int i = 0; i < kMaxParams; ++i) {
    if (p.params[i].kind == DistKind::fixed) continue;
    for (int l = 0; l < n; ++l) counts.parameter(i, uniform_bin(u[i][l]), s.accepted[l] != 0);
  }
  for (int j = 0; j < p.num_observations; ++j)
    for (int l = 0; l < n; ++l) {
      if ((s.rejected_by[l] >> j) & 1u) counts.rejected(j);
      counts.observed(j, s.obs_bin[j][l], s.accepted[l] != 0);
    }
}

// For run_blocks_calibrated's callers that keep no decision counts.
struct NoDecisions {};
template <int L>
CC_FUNCTION void record_decisions(const ModelParams&, const LaneState<L>&, int, NoDecisions&) {}

}  // namespace chipcast::parity
