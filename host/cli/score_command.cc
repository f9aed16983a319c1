// `chipcast score`: flags, the re-run through a RunSession, the scores and their files (score_command.h).
#include "host/cli/score_command.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/cli/error_report.h"
#include "host/cli/exit_status.h"
#include "host/config/observations.h"
#include "host/report/output_set.h"
#include "host/run/run_session.h"
#include "host/stats/observation_scores.h"

namespace chipcast::cli {
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

void write_score_files(const std::filesystem::path& dir, const std::string& run_dir, uint64_t trajectories,
                       uint64_t seed, const std::vector<ObservationScore>& scores, const ScoreTotals& t) {
  nlohmann::json j;
  j["run"] = run_dir;
  j["trajectories"] = trajectories;
  j["seed"] = seed;
  j["predictive"] =
      "the simulated calendar-year total times the observation's lognormal error (MODEL-v2.md section 9): a mixture "
      "of normals in log space over the total's histogram bins";
  nlohmann::json rows = nlohmann::json::array();
  std::ofstream csv(dir / "score.csv");
  csv << "year,bloc,metric,value,sd_log,q05,q50,q95,pit,covered50,covered90,crps_log,source\n";
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
    csv << o.year << ',' << observed_bloc_name(o.bloc) << ',' << quantity_name(o.quantity) << ',' << csv_number(o.value)
        << ',' << csv_number(o.sd_log) << ',' << csv_number(s.q05) << ',' << csv_number(s.q50) << ','
        << csv_number(s.q95) << ',' << csv_number(s.score.pit) << ',' << (s.score.covered50 ? 1 : 0) << ','
        << (s.score.covered90 ? 1 : 0) << ',' << csv_number(s.score.crps) << ',' << csv_text(o.source) << '\n';
  }
  j["observations"] = rows;
  j["totals"] = {{"observations", t.observations},
                 {"coverage50", t.coverage50},
                 {"coverage90", t.coverage90},
                 {"mean_crps_log", number_or_null(t.mean_crps)}};
  std::ofstream(dir / "score.json") << j.dump(2) << '\n';
  if (!csv) throw std::runtime_error("cannot write " + (dir / "score.csv").string());
}

}  // namespace

int cmd_score(const ScoreArgs& a) {
  try {
    const std::filesystem::path resolved = std::filesystem::path(a.run_dir) / "resolved.toml";
    if (!std::filesystem::is_regular_file(resolved)) {
      fmt::print(stderr, "error: {}: no resolved.toml (score re-runs a run's output folder)\n", a.run_dir);
      return kExitConfig;
    }
    SessionOptions so;
    so.backend = a.backend;
    so.threads = a.threads;
    RunSession session(so);
    const auto scenario = session.load(resolved.string(), Overrides{});
    const std::vector<Observation> obs =
        a.observations.empty() ? scenario->observations : load_observations_file(a.observations);
    if (obs.empty()) {
      fmt::print(stderr, "error: {}: no [[observations]]; give --observations FILE\n", resolved.string());
      return kExitConfig;
    }
    check_observation_years(obs, scenario->run, resolved.string());
    const std::filesystem::path out =
        a.out.empty() ? std::filesystem::path(a.run_dir) / "score" : std::filesystem::path(a.out);
    OutputSet set = OutputSet::open(out, OutputKind::score);  // before the work: a refused folder fails now
    // A supply quantity (wafers, hbm, packaging) has no row in a run's tally: the re-run is then a
    // calibrate, whose prior is the same run and whose decision counts hold each observation's
    // histogram (its cost: the periods to the last observed year once more).
    bool supply = false;
    for (const Observation& o : obs)
      supply = supply || o.quantity == ObservedQuantity::wafers || o.quantity == ObservedQuantity::hbm ||
               o.quantity == ObservedQuantity::packaging;
    CalibrateResult r;
    if (supply)
      r = session.calibrate(scenario, obs, RunOptions{});
    else
      r.prior = session.run(scenario, RunOptions{});
    if (!r.prior.speaks_for_job) return kExitOk;
    const std::vector<ObservationScore> scores =
        score_observations(r.prior.tally, scenario->run, obs, supply ? &r.decisions : nullptr);
    const ScoreTotals totals = score_totals(scores);
    write_score_files(set.path(), a.run_dir, scenario->run.trajectories, scenario->run.seed, scores, totals);
    set.commit();
    if (!a.quiet) {
      for (const ObservationScore& s : scores)
        fmt::print("{:<28} PIT {:.3f}  {:<10} CRPS(log) {}\n", s.observation->label(), s.score.pit,
                   s.score.covered90 ? (s.score.covered50 ? "in 50/90" : "in 90") : "outside",
                   csv_number(s.score.crps));
      fmt::print(
          "{} observations: {:.0f} % inside the 50 % bands, {:.0f} % inside the 90 % bands, mean CRPS(log) {}; "
          "outputs in {}\n",
          totals.observations, 100 * totals.coverage50, 100 * totals.coverage90, csv_number(totals.mean_crps),
          out.string());
    }
  } catch (const std::exception& e) {
    return report_error(e);
  }
  return kExitOk;
}

void add_score_command(CLI::App& app, int& exit_status) {
  int* status = &exit_status;
  auto sa = std::make_shared<ScoreArgs>();
  auto* score = app.add_subcommand(
      "score",
      "re-run a run folder's resolved.toml and score it against observations (PIT, 50/90 % coverage, CRPS of the "
      "log); writes score.json and score.csv");
  score->add_option("run_dir", sa->run_dir, "a run's output folder")->required()->check(CLI::ExistingDirectory);
  score
      ->add_option("--observations", sa->observations,
                   "TOML file of [[observations]] only (default: the run's own [[observations]])")
      ->check(CLI::ExistingFile);
  score->add_option("--backend", sa->backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  score->add_option("--threads", sa->threads, "CPU threads (0 = OpenMP default)")->check(CLI::NonNegativeNumber);
  score->add_option("--out", sa->out, "output folder (default: RUN_DIR/score)");
  score->add_flag("--quiet", sa->quiet, "print nothing but errors");
  score->callback([sa, status] { *status = cmd_score(*sa); });
}

}  // namespace chipcast::cli
