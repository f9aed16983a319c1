// A calibrate run's decision counts: accepted trajectories, per-observation rejections, parameter-uniform histograms.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "models/parity/decision_counts.h"
#include "models/parity/params.h"
#include "tally/tally.h"

namespace chipcast {

// Integer counts only (like Tally), so merging threads, batches, ranks and
// resumed checkpoints is exact and order-free. `params` lists the drawn
// (non-fixed) parameter-table indices in ascending order; row j of the
// uniform histograms is params[j]'s, kUniformBins counts of its
// inverse-CDF uniform (kernels/tally/uniform_bins.h).
struct CalibrationTally {
  std::vector<int32_t> params;  // parameter-table indices of the drawn parameters
  int32_t observations = 0;     // ModelParams::num_observations
  uint64_t trajectories = 0;    // prior trajectories decided
  uint64_t accepted = 0;        // of which accepted (u < L)
  // Per observation j: trajectories whose own factor L_j alone would reject
  // them (u >= L_j, u the trajectory's acceptance uniform): which observation
  // rejects the most, for the warning.
  std::vector<uint64_t> rejects;
  std::vector<uint64_t> prior_u;      // [params.size()][kUniformBins]: every trajectory
  std::vector<uint64_t> posterior_u;  // the same, accepted trajectories only
  // Per observation j, the level histogram (kLevelBins, kernels/tally/tally_layout.h) of its
  // simulated value (the year's total, mean wafers, ratio, ...; a NaN in no bin), of every
  // trajectory and of the accepted ones: the predictive distributions of the supply quantities,
  // which the run's tally has no rows for.
  std::vector<uint64_t> prior_obs;      // [observations][kLevelBins]
  std::vector<uint64_t> posterior_obs;  // [observations][kLevelBins]

  CalibrationTally() = default;
  explicit CalibrationTally(const parity::ModelParams& p);

  bool empty() const { return params.empty() && observations == 0 && trajectories == 0; }
  const uint64_t* prior_row(size_t j) const { return prior_u.data() + j * kUniformBins; }
  const uint64_t* posterior_row(size_t j) const { return posterior_u.data() + j * kUniformBins; }
  const uint64_t* prior_observed_row(size_t j) const { return prior_obs.data() + j * kLevelBins; }
  const uint64_t* posterior_observed_row(size_t j) const { return posterior_obs.data() + j * kLevelBins; }
  // Adds another tally of the same layout (std::invalid_argument otherwise).
  void merge(const CalibrationTally& other);
  // Adds a 32-bit partial (DecisionPartial's) of the same layout.
  void add(const parity::DecisionCounts& partial, uint64_t trajectories, uint64_t accepted);
  bool operator==(const CalibrationTally& o) const;
  // Empty when every uniform row sums to trajectories (prior) or accepted
  // (posterior), no observation row sums to more, and no rejection count
  // exceeds trajectories; else what is wrong.
  std::string inconsistency() const;
};

// What a calibrate run tallies beside its prior (the run's Tally): the accepted
// trajectories' tally and the decision counts.
struct CalibrateTallies {
  Tally posterior;
  CalibrationTally decisions;
  CalibrateTallies() = default;
  explicit CalibrateTallies(const parity::ModelParams& p) : posterior(parity::tally_shape(p)), decisions(p) {}
  bool operator==(const CalibrateTallies& o) const { return posterior == o.posterior && decisions == o.decisions; }
};

// Host-owned 32-bit counters behind a DecisionCounts view (a thread's partial).
class DecisionPartial {
 public:
  explicit DecisionPartial(const parity::ModelParams& p);
  DecisionPartial(const DecisionPartial&) = delete;  // the view points into counts_
  DecisionPartial& operator=(const DecisionPartial&) = delete;
  parity::DecisionCounts view() const { return view_; }
  void clear();

 private:
  std::vector<uint32_t> counts_;  // prior_u | posterior_u | rejects | prior_obs | posterior_obs
  parity::DecisionCounts view_;
};

}  // namespace chipcast
