// A run re-run and scored against observations (score_run.h).
#include "host/analysis/score_run.h"

#include <utility>

#include "host/config/observations.h"

namespace chipcast::analysis {

std::shared_ptr<const Scenario> load_scored_run(RunSession& session, const std::filesystem::path& run_dir) {
  const std::filesystem::path resolved = run_dir / "resolved.toml";
  if (!std::filesystem::is_regular_file(resolved))
    throw RunError(RunErrorKind::config, run_dir.string() + ": no resolved.toml (score re-runs a run's output folder)");
  return session.load(resolved.string(), Overrides{});
}

std::vector<Observation> scored_observations(const Scenario& scenario, const std::string& observations_file) {
  std::vector<Observation> obs =
      observations_file.empty() ? scenario.observations : load_observations_file(observations_file);
  if (obs.empty())
    throw RunError(RunErrorKind::config, scenario.path + ": no [[observations]]; give --observations FILE");
  check_observation_years(obs, scenario.run, scenario.path);
  return obs;
}

ScoredRun score_run(RunSession& session, std::shared_ptr<const Scenario> scenario,
                    std::vector<Observation> observations, const RunOptions& options, RunObserver* observer) {
  ScoredRun s;
  s.scenario = scenario;
  s.observations = std::move(observations);
  // A supply quantity (wafers, hbm, packaging) has no row in a run's tally: the re-run is then a
  // calibrate, whose prior is the same run and whose decision counts hold each observation's
  // histogram (its cost: the periods to the last observed year once more).
  bool supply = false;
  for (const Observation& o : s.observations)
    supply = supply || o.quantity == ObservedQuantity::wafers || o.quantity == ObservedQuantity::hbm ||
             o.quantity == ObservedQuantity::packaging;
  CalibrateResult r;
  if (supply)
    r = session.calibrate(std::move(scenario), s.observations, options, observer);
  else
    r.prior = session.run(std::move(scenario), options, observer);
  s.run = std::move(r.prior);
  if (!s.run.speaks_for_job || s.run.outcome != RunOutcome::complete) return s;
  s.scores = score_observations(s.run.tally, s.scenario->run, s.observations, supply ? &r.decisions : nullptr);
  s.totals = score_totals(s.scores);
  return s;
}

}  // namespace chipcast::analysis
