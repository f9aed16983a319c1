// `chipcast score RUN_DIR`: a run re-run from its resolved.toml and scored against observations (MODEL-v2.md section 9).
#pragma once
#include <string>

namespace CLI {
class App;
}

namespace chipcast::cli {

struct ScoreArgs {
  std::string run_dir;       // a run's output folder (its resolved.toml)
  std::string observations;  // an --observations file; empty: the run's own [[observations]]
  std::string backend = "openmp";
  int threads = 0;
  std::string out;  // default: RUN_DIR/score
  bool quiet = false;
};

// Re-runs RUN_DIR/resolved.toml (its seed and trajectory count: the same run),
// scores each observation against that run's calendar-year totals and writes
// score.json and score.csv as one output set. Exit statuses as cmd_compare
// (0; 2 bad flags, config or observations, nothing written; 3 backend or I/O).
int cmd_score(const ScoreArgs& args);

// Adds `score` to `app`; as add_analysis_commands, the callback stores the exit status.
void add_score_command(CLI::App& app, int& exit_status);

}  // namespace chipcast::cli
