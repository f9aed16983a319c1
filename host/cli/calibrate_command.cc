// `chipcast calibrate` (calibrate_command.h): flags to options, RunSession::calibrate, the headline and exit status.
#include "host/cli/calibrate_command.h"

#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "host/cli/console_observer.h"
#include "host/cli/error_report.h"
#include "host/cli/exit_status.h"
#include "host/config/observations.h"
#include "host/config/scenario.h"
#include "host/report/calibration_output.h"

namespace chipcast::cli {

int cmd_calibrate(const CalibrateArgs& c, const std::string& command_line,
                  std::chrono::steady_clock::time_point program_start, int* argc, char*** argv) {
  const RunArgs& a = c.run;
  ConsoleObserver observer(a.quiet, /*warn_when_quiet=*/true);
  try {
    RunSession session(session_options(a), argc, argv);
    const bool root = session.speaks_for_job();
    if (refuse_resume_without_checkpoint(a, root)) return kExitConfig;
    const RunOptions ro = run_options(a, command_line, program_start, "-calibrate");
    const auto scenario = session.load(a.config, Overrides{a.trajectories, a.seed, a.sampling}, &observer);
    std::vector<Observation> obs;
    if (!c.observations.empty()) {
      try {
        obs = load_observations_file(c.observations);
      } catch (const ConfigError& e) {
        throw RunError(RunErrorKind::config, e.what(), root);
      }
    }
    const CalibrateResult r = session.calibrate(scenario, obs, ro, &observer);
    if (!r.prior.speaks_for_job) return kExitOk;
    const Scenario& sc = *r.prior.scenario;
    if (r.prior.outcome == RunOutcome::stopped) {
      fmt::print(stderr,
                 "stopped by {} after {} of {} trajectories; checkpoint in {}; continue with --resume "
                 "(exit status {})\n",
                 r.prior.stop_reason, r.prior.done, sc.run.trajectories, r.prior.checkpoint_file.string(),
                 kExitCheckpointed);
      return kExitCheckpointed;
    }
    // Even with --quiet: a posterior that rests on few draws, or none, is news for the job log.
    if (r.warning) fmt::print(stderr, "warning: {}\n", *r.warning);
    if (!a.quiet) {
      fmt::print("{}", calibration_headline(r));
      fmt::print("{} prior trajectories in {:.2f} s on {}{}; outputs in {}\n", sc.run.trajectories,
                 r.prior.info.seconds, r.prior.info.backend_detail,
                 r.prior.info.ranks > 1 ? fmt::format(", {} ranks", r.prior.info.ranks) : "", ro.out.string());
      if (!a.checkpoint.empty() && r.prior.checkpoints > 0)
        fmt::print("{} checkpoints written to {} in {:.2f} s\n", r.prior.checkpoints, r.prior.checkpoint_file.string(),
                   r.prior.checkpoint_seconds);
    }
    if (r.accepted == 0) return kExitNoPosterior;
  } catch (const std::exception& e) {
    return report_error(e);
  }
  return kExitOk;
}

void add_calibrate_command(CLI::App& app, int& exit_status, const std::string& command_line,
                           std::chrono::steady_clock::time_point program_start, int* argc, char*** argv) {
  auto args = std::make_shared<CalibrateArgs>();
  auto* cmd = app.add_subcommand(
      "calibrate",
      "run a scenario's prior and keep the trajectories that agree with observed history (exact rejection "
      "sampling, MODEL-v2.md section 8); writes prior/, posterior/, calibration.json, calibration.csv, "
      "parameter_quantiles.csv");
  add_run_flags(cmd, args->run);
  cmd->add_option("--observations", args->observations,
                  "TOML file of [[observations]] only, replacing the scenario's (default: the scenario's own)")
      ->check(CLI::ExistingFile);
  cmd->footer(
      "Exit status: 0 done; 5 done but no trajectory accepted (prior/ and calibration.* written, no posterior/); "
      "2 bad config, flags or observations, or --out held or unusable; 3 runtime failure; 4 checkpoint refused "
      "(another run's, a plain run's, or corrupt); 75 stopped early with a checkpoint written (resume with "
      "--resume).");
  int* status = &exit_status;
  const std::string* line = &command_line;
  cmd->callback([=] { *status = cmd_calibrate(*args, *line, program_start, argc, argv); });
}

}  // namespace chipcast::cli
