// `chipcast score`: flags, then analysis::score_run and write_score_outputs (shared with Python), and the terminal lines (score_command.h).
#include "host/cli/score_command.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/analysis/score_run.h"
#include "host/cli/error_report.h"
#include "host/cli/exit_status.h"
#include "host/report/output_set.h"
#include "host/report/score_output.h"
#include "host/run/run_session.h"

namespace chipcast::cli {
namespace {

std::string csv_number(double x) {
  return std::isfinite(x) ? fmt::format("{:.6g}", x) : std::string(x > 0 ? "inf" : "-inf");
}

}  // namespace

int cmd_score(const ScoreArgs& a) {
  try {
    SessionOptions so;
    so.backend = a.backend;
    so.threads = a.threads;
    RunSession session(so);
    const auto scenario = analysis::load_scored_run(session, a.run_dir);
    std::vector<Observation> obs = analysis::scored_observations(*scenario, a.observations);
    const std::filesystem::path out =
        a.out.empty() ? std::filesystem::path(a.run_dir) / "score" : std::filesystem::path(a.out);
    OutputSet set = OutputSet::open(out, OutputKind::score);  // before the work: a refused folder fails now
    const analysis::ScoredRun s = analysis::score_run(session, scenario, std::move(obs), RunOptions{});
    if (!s.run.speaks_for_job) return kExitOk;
    write_score_outputs(set.path(), ScoreProvenance{a.run_dir, scenario->run.trajectories, scenario->run.seed},
                        s.scores, s.totals);
    set.commit();
    if (!a.quiet) {
      for (const ObservationScore& o : s.scores)
        fmt::print("{:<28} PIT {:.3f}  {:<10} CRPS(log) {}\n", o.observation->label(), o.score.pit,
                   o.score.covered90 ? (o.score.covered50 ? "in 50/90" : "in 90") : "outside",
                   csv_number(o.score.crps));
      fmt::print(
          "{} observations: {:.0f} % inside the 50 % bands, {:.0f} % inside the 90 % bands, mean CRPS(log) {}; "
          "outputs in {}\n",
          s.totals.observations, 100 * s.totals.coverage50, 100 * s.totals.coverage90, csv_number(s.totals.mean_crps),
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
