// Scores of a run against observations (observation_scores.h).
#include "host/stats/observation_scores.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/tally/tally_layout.h"

namespace chipcast {
namespace {

int metric_of(ObservedQuantity q) {
  switch (q) {
    case ObservedQuantity::units:
      return 0;
    case ObservedQuantity::compute:
      return 1;
    case ObservedQuantity::memory:
      return 2;
    default:
      return -1;
  }
}

int series_offset(ObservedBloc b) {
  switch (b) {
    case ObservedBloc::ratio:
      return 0;
    case ObservedBloc::domestic:
      return 1;
    case ObservedBloc::foreign:
      return 2;
  }
  return -1;
}

double value_of_log(double x) { return std::exp(x); }  // exp(-inf) = 0, exp(inf) = inf

}  // namespace

ObservationScore score_against_histogram(const uint64_t* row, const Observation& o) {
  const LogNormalMixture m = predictive_mixture(row, o.sd_log);
  ObservationScore s;
  s.observation = &o;
  s.score = score_observation(m, std::log(o.value));
  s.q05 = value_of_log(mixture_quantile(m, 0.05));
  s.q50 = value_of_log(mixture_quantile(m, 0.50));
  s.q95 = value_of_log(mixture_quantile(m, 0.95));
  return s;
}

std::vector<ObservationScore> score_observations(const Tally& tally, const RunSettings& run,
                                                 const std::vector<Observation>& obs,
                                                 const CalibrationTally* observed) {
  std::vector<ObservationScore> out;
  const int first_year = static_cast<int>(std::lround(run.start_year));
  for (size_t j = 0; j < obs.size(); ++j) {
    const Observation& o = obs[j];
    const int metric = metric_of(o.quantity);
    if (metric < 0 && observed && j < static_cast<size_t>(observed->observations)) {
      out.push_back(score_against_histogram(observed->prior_observed_row(j), o));
      continue;
    }
    if (metric < 0)
      throw std::invalid_argument(o.file + ": " + o.key + ": " + o.label() + ": a run's tally holds the metrics' " +
                                  "calendar-year totals only; " + quantity_name(o.quantity) +
                                  " is observed by calibrate's observation tallies");
    const int year = o.year - first_year;
    if (year < 0 || year >= tally.shape.years)
      throw std::invalid_argument(o.file + ": " + o.key + ": " + o.label() +
                                  ": the run has no calendar-year total of " + std::to_string(o.year));
    const uint64_t* row =
        tally.level_row(tally.shape.annual_row(year), metric * kSeriesPerMetric + series_offset(o.bloc));
    out.push_back(score_against_histogram(row, o));
  }
  return out;
}

ScoreTotals score_totals(const std::vector<ObservationScore>& scores) {
  ScoreTotals t;
  t.observations = static_cast<int>(scores.size());
  if (scores.empty()) return t;
  double c50 = 0, c90 = 0, crps = 0;
  for (const ObservationScore& s : scores) {
    c50 += s.score.covered50;
    c90 += s.score.covered90;
    crps += s.score.crps;
  }
  const double n = static_cast<double>(scores.size());
  t.coverage50 = c50 / n;
  t.coverage90 = c90 / n;
  t.mean_crps = crps / n;
  return t;
}

}  // namespace chipcast
