// Scores of a run against observations (MODEL-v2.md section 9): per observation PIT, band coverage, CRPS; totals.
#pragma once
#include <optional>
#include <vector>

#include "host/config/observation.h"
#include "host/config/scenario.h"
#include "host/stats/predictive_score.h"
#include "tally/calibration_tally.h"
#include "tally/tally.h"

namespace chipcast {

struct ObservationScore {
  const Observation* observation = nullptr;  // into the list scored
  PredictiveScore score;
  // The predictive distribution's q05, q50, q95 (of the observation, not its
  // log; 0 / +inf where an atom holds the quantile).
  double q05 = 0, q50 = 0, q95 = 0;
};

struct ScoreTotals {
  int observations = 0;
  double coverage50 = 0, coverage90 = 0;  // shares of observations inside each band
  double mean_crps = 0;                   // +inf when one observation's CRPS is
};

// Each observation's score against the run's calendar-year histograms:
// the predictive distribution of a metric's observation is that year's
// level row (TallyShape::annual_row; the series of its bloc, or the ratio)
// times its lognormal error (predictive_mixture). The tally must have the
// observations' years (set_observation_table's checks: fully simulated
// calendar years of `run`). The supply quantities (wafers, hbm, packaging)
// are not in a run's tally: they are read from `observed` (a calibrate run's
// decision counts, whose observation j is obs[j]: prior_observed_row), and
// without it std::invalid_argument names the observation.
std::vector<ObservationScore> score_observations(const Tally& tally, const RunSettings& run,
                                                 const std::vector<Observation>& obs,
                                                 const CalibrationTally* observed = nullptr);

// The score and quantiles of observation `o` against a level histogram of its simulated value.
ObservationScore score_against_histogram(const uint64_t* row, const Observation& o);

ScoreTotals score_totals(const std::vector<ObservationScore>& scores);

}  // namespace chipcast
