// score.json and score.csv of `chipcast score`: the one writer the CLI and the Python package share.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "host/stats/observation_scores.h"

namespace chipcast {

// What the score files say besides the scores: the run folder scored (as the
// user named it; empty: null in JSON, a result that was never saved) and the
// re-run's [run] trajectories and seed.
struct ScoreProvenance {
  std::string run_dir;
  uint64_t trajectories = 0;
  uint64_t seed = 0;
};

// score.json (2-space indent, trailing newline): run, trajectories, seed,
// predictive (how the predictive distribution is formed), observations (one
// object per score, with interval only where the observation gave one) and
// totals. Unbounded CRPS or quantiles are null (JSON has no infinity).
std::string score_json(const ScoreProvenance& p, const std::vector<ObservationScore>& scores, const ScoreTotals& t);
// score.csv: year,bloc,metric,value,sd_log,q05,q50,q95,pit,covered50,covered90,crps_log,source,
// numbers as %.6g ("inf" where unbounded), the source quoted as RFC 4180 says.
std::string score_csv(const std::vector<ObservationScore>& scores);
// Writes both into `dir` (an OutputSet's path()), each atomically; the same
// inputs give byte-identical files. std::runtime_error naming the path on failure.
void write_score_outputs(const std::filesystem::path& dir, const ScoreProvenance& p,
                         const std::vector<ObservationScore>& scores, const ScoreTotals& t);

}  // namespace chipcast
