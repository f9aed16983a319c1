// score.json and score.csv (score_output.h).
#include "host/report/score_output.h"

#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/run/write_file_atomic.h"

namespace chipcast {
namespace {

// JSON has no infinity: an unbounded CRPS or quantile is written as null.
nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
std::string csv_number(double x) {
  return std::isfinite(x) ? fmt::format("{:.6g}", x) : std::string(x > 0 ? "inf" : "-inf");
}
// A source may hold commas and quotes: quoted as RFC 4180 says.
std::string csv_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string score_json(const ScoreProvenance& p, const std::vector<ObservationScore>& scores, const ScoreTotals& t) {
  nlohmann::json j;
  j["run"] = p.run_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.run_dir);
  j["trajectories"] = p.trajectories;
  j["seed"] = p.seed;
  j["predictive"] =
      "the simulated calendar-year total times the observation's lognormal error (MODEL-v2.md section 9): a mixture "
      "of normals in log space over the total's histogram bins";
  nlohmann::json rows = nlohmann::json::array();
  for (const ObservationScore& s : scores) {
    const Observation& o = *s.observation;
    nlohmann::json r;
    r["year"] = o.year;
    r["bloc"] = observed_bloc_name(o.bloc);
    r["metric"] = quantity_name(o.quantity);
    r["value"] = o.value;
    r["sd_log"] = o.sd_log;
    if (o.interval) r["interval"] = {o.low, o.high};
    r["source"] = o.source;
    r["q05"] = number_or_null(s.q05);
    r["q50"] = number_or_null(s.q50);
    r["q95"] = number_or_null(s.q95);
    r["pit"] = s.score.pit;
    r["covered50"] = s.score.covered50;
    r["covered90"] = s.score.covered90;
    r["crps_log"] = number_or_null(s.score.crps);
    rows.push_back(r);
  }
  j["observations"] = rows;
  j["totals"] = {{"observations", t.observations},
                 {"coverage50", t.coverage50},
                 {"coverage90", t.coverage90},
                 {"mean_crps_log", number_or_null(t.mean_crps)}};
  return j.dump(2) + '\n';
}

std::string score_csv(const std::vector<ObservationScore>& scores) {
  std::ostringstream csv;
  csv << "year,bloc,metric,value,sd_log,q05,q50,q95,pit,covered50,covered90,crps_log,source\n";
  for (const ObservationScore& s : scores) {
    const Observation& o = *s.observation;
    csv << o.year << ',' << observed_bloc_name(o.bloc) << ',' << quantity_name(o.quantity) << ',' << csv_number(o.value)
        << ',' << csv_number(o.sd_log) << ',' << csv_number(s.q05) << ',' << csv_number(s.q50) << ','
        << csv_number(s.q95) << ',' << csv_number(s.score.pit) << ',' << (s.score.covered50 ? 1 : 0) << ','
        << (s.score.covered90 ? 1 : 0) << ',' << csv_number(s.score.crps) << ',' << csv_text(o.source) << '\n';
  }
  return csv.str();
}

void write_score_outputs(const std::filesystem::path& dir, const ScoreProvenance& p,
                         const std::vector<ObservationScore>& scores, const ScoreTotals& t) {
  write_file_atomic(dir / "score.csv", score_csv(scores));
  write_file_atomic(dir / "score.json", score_json(p, scores, t));
}

}  // namespace chipcast
