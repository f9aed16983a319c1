// The kernels' observation table (ModelParams::observations) from validated observations.
#pragma once
#include <string>
#include <vector>

#include "host/config/observation.h"
#include "models/parity/params.h"

namespace chipcast {

struct RunSettings;

// Checks the observations' years against `run` (check_observation_years) and
// their number (at most parity::kMaxObservations), then writes the table, in
// the given order, and observed_periods into `p`; `p`'s calendar-year grid
// (periods_per_year, years) must be the run's. An empty list clears the table
// (a plain run). Throws ConfigError naming file, key and value.
void set_observation_table(const std::vector<Observation>& obs, const RunSettings& run,
                           const std::string& scenario_path, parity::ModelParams& p);

}  // namespace chipcast
