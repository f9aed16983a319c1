// The kernels' observation table from validated observations (observation_table.h).
#include "host/config/observation_table.h"

#include <cmath>
#include <string>
#include <vector>

#include "host/config/config_diagnostics.h"
#include "host/config/observations.h"
#include "host/config/scenario.h"

namespace chipcast {
namespace {

int32_t quantity_index(ObservedQuantity q) {
  switch (q) {
    case ObservedQuantity::units:
      return parity::kUnits;
    case ObservedQuantity::compute:
      return parity::kCompute;
    case ObservedQuantity::memory:
      return parity::kMemory;
    case ObservedQuantity::wafers:
      return kNumMetrics + parity::kSupplyWafers;
    case ObservedQuantity::hbm:
      return kNumMetrics + parity::kSupplyHbm;
    case ObservedQuantity::packaging:
      return kNumMetrics + parity::kSupplyPackaging;
  }
  return -1;
}

int32_t bloc_index(ObservedBloc b) {
  switch (b) {
    case ObservedBloc::domestic:
      return parity::kDomestic;
    case ObservedBloc::foreign:
      return parity::kForeign;
    case ObservedBloc::ratio:
      return parity::kObservedRatio;
  }
  return -1;
}

}  // namespace

void set_observation_table(const std::vector<Observation>& obs, const RunSettings& run,
                           const std::string& scenario_path, parity::ModelParams& p) {
  p.num_observations = 0;
  p.observed_periods = 0;
  if (obs.empty()) return;
  check_observation_years(obs, run, scenario_path);
  if (obs.size() > static_cast<size_t>(parity::kMaxObservations)) {
    const Observation& o = obs[parity::kMaxObservations];
    config::fail(o.file, o.key, o.label(), "too many observations (" + std::to_string(obs.size()) + ")",
                 "at most " + std::to_string(parity::kMaxObservations) + " observations are supported in one run");
  }
  const int first_year = static_cast<int>(std::lround(run.start_year));
  int last = -1;
  for (size_t j = 0; j < obs.size(); ++j) {
    const Observation& o = obs[j];
    parity::ObservationSpec& t = p.observations[j];
    t.year = o.year - first_year;
    t.bloc = bloc_index(o.bloc);
    t.quantity = quantity_index(o.quantity);
    t.log_value = std::log(o.value);
    t.sd_log = o.sd_log;
    if (t.year > last) last = t.year;
  }
  // check_observation_years has made the year grid whole, so the config
  // layer's calendar-year grid has these years.
  p.num_observations = static_cast<int32_t>(obs.size());
  p.observed_periods = (last + 1) * p.periods_per_year;
}

}  // namespace chipcast
