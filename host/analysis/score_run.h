// `chipcast score` as one call: a run folder's (or a scenario's) re-run scored against observations, for the CLI and Python.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "host/config/observation.h"
#include "host/config/scenario.h"
#include "host/run/run_session.h"
#include "host/stats/observation_scores.h"

namespace chipcast::analysis {

// A scored run. Not copyable: `scores` point into `observations` (a move
// keeps the vector's buffer, so moving is safe).
struct ScoredRun {
  std::shared_ptr<const Scenario> scenario;
  std::vector<Observation> observations;  // those scored, in their file's order
  std::vector<ObservationScore> scores;   // one per observation
  ScoreTotals totals;
  RunResult run;  // the re-run (rank 0: its tally, summary and provenance)

  ScoredRun() = default;
  ScoredRun(ScoredRun&&) = default;
  ScoredRun& operator=(ScoredRun&&) = default;
  ScoredRun(const ScoredRun&) = delete;
  ScoredRun& operator=(const ScoredRun&) = delete;
};

// RUN_DIR/resolved.toml loaded through the session: the run's seed and
// trajectory count, so re-running it is the same run. RunError(config)
// "RUN_DIR: no resolved.toml (score re-runs a run's output folder)" when it is
// missing; the loader's errors otherwise.
std::shared_ptr<const Scenario> load_scored_run(RunSession& session, const std::filesystem::path& run_dir);

// The observations to score: those of `observations_file` (an --observations
// file: it replaces the scenario's) when not empty, else the scenario's own
// [[observations]]; checked against the run's years (check_observation_years,
// naming the scenario's file). RunError(config) when there are none.
std::vector<Observation> scored_observations(const Scenario& scenario, const std::string& observations_file);

// Runs `scenario` through the session (options as given: no output folder is
// written by it) and scores `observations` against its calendar-year totals
// (score_observations, score_totals). With a supply-quantity observation
// (wafers, hbm, packaging) the re-run is a calibrate run on `observations`,
// whose prior is the same run and whose decision counts hold those
// quantities' histograms; `run` is then its prior. On the ranks other than 0, and when the
// run stopped early, `scores` is empty and run.speaks_for_job / run.outcome
// say why. Throws as RunSession::run, and std::invalid_argument naming an
// observation the tally cannot score (score_observations).
ScoredRun score_run(RunSession& session, std::shared_ptr<const Scenario> scenario,
                    std::vector<Observation> observations, const RunOptions& options, RunObserver* observer = nullptr);

}  // namespace chipcast::analysis
