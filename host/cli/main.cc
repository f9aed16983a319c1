// The chipcast command line: run, calibrate, score, validate, info, plot, compare, sensitivity.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

#include "host/cli/analysis_commands.h"
#include "host/cli/calibrate_command.h"
#include "host/cli/score_command.h"
#include "host/cli/exit_status.h"
#include "host/cli/flag_validators.h"
#include "host/cli/plot_command.h"
#include "host/cli/run_command.h"
#include "host/config/scenario.h"
#include "host/run/run_session.h"

namespace {

using namespace chipcast;
using namespace chipcast::cli;


int cmd_validate(const std::string& config) {
  try {
    auto sc = load_scenario(config);
    for (const auto& w : sc->warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print("# {} is valid: {} periods of {} years, {} regimes, {} shocks, {} events\n", config, sc->params.periods,
               sc->run.dt, sc->params.num_regimes, sc->params.num_shocks, sc->params.num_events);
    fmt::print("# resolved config (sha256 {}):\n{}\n", sc->sha256, sc->resolved_toml);
  } catch (const ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitConfig;
  }
  return kExitOk;
}

int cmd_info() {
  const BuildInfo b = build_info();
  fmt::print("chipcast {}\n", b.version);
  std::string names;
  for (const auto& n : b.backends) names += (names.empty() ? "" : ", ") + n;
  fmt::print("backends: {}\n", names);
  for (const auto& line : b.device_lines) fmt::print("  {}\n", line);
  fmt::print("mpi: {}\n", b.mpi ? b.mpi_library + " (run under mpirun or srun to split runs)"
                                : std::string("not built in (configure with --preset mpi)"));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const auto program_start = std::chrono::steady_clock::now();
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  // Backend runtime flags (Kokkos' --kokkos-num-threads=N, ...) are for the
  // backend, not for CLI11, which would reject them.
  argc = take_backend_arguments(argc, argv);

  CLI::App app{"chipcast: Monte Carlo forecasts of AI-chip output parity"};
  app.require_subcommand(1);

  RunArgs ra;
  auto* run = app.add_subcommand("run", "run a scenario and write summary.json, crossing.csv, bands.csv");
  add_run_flags(run, ra);
  run->add_flag("--plot", ra.plot,
                "also write the charts (SVG, PNG; Python matplotlib) and report.html into the output folder");
  run->footer(
      "Exit status: 0 done; 2 bad config or flags, or --out held by another run or unusable; 3 runtime failure "
      "(resume from the checkpoint); 4 checkpoint refused (another run or corrupt; left untouched); 75 stopped "
      "early with a checkpoint written (resume with --resume). Under MPI (mpirun/srun) the trajectories are split "
      "across ranks; rank 0 writes. See host/run/README-hpc.md.");

  std::string vconfig;
  auto* validate = app.add_subcommand("validate", "check a scenario and print it resolved");
  validate->add_option("config", vconfig, "scenario TOML file")->required()->check(CLI::ExistingFile);

  auto* info = app.add_subcommand("info", "version, backends, devices and threads");

  std::string plot_dir;
  auto* plot =
      app.add_subcommand("plot", "write the charts (SVG, PNG; Python matplotlib) and report.html of an output folder");
  plot->add_option("dir", plot_dir,
                   "output folder of run, compare or sensitivity (summary.json, compare.json or sensitivity.json)")
      ->required()
      ->check(CLI::ExistingDirectory);

  int analysis_status = -1;
  add_analysis_commands(app, analysis_status);
  add_score_command(app, analysis_status);
  add_calibrate_command(app, analysis_status, command_line, program_start, &argc, &argv);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitConfig;
  }
  if (analysis_status >= 0) return analysis_status;
  if (*run) return cmd_run(ra, command_line, program_start, &argc, &argv);
  if (*plot) return cmd_plot(plot_dir);
  if (*validate) return cmd_validate(vconfig);
  if (*info) return cmd_info();
  return kExitConfig;
}
