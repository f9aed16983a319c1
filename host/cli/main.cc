// The chipcast command line: run, validate, info, plot, compare, sensitivity.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

#include "host/cli/analysis_commands.h"
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

// Flag limits: the config's own for counts and seeds (run.trajectories and
// run.seed are TOML integers); a backend run counts into 32-bit partial
// tallies; the memory limit in bytes must fit uint64_t (2^34 GiB); the time
// limit must fit the steady clock's int64 nanoseconds (292 years) after the
// program's start, 1e8 minutes being 190 years.
constexpr int64_t kMaxCount = INT64_MAX;
constexpr int64_t kMaxBatch = (int64_t{1} << 32) - 1;
constexpr double kMaxMemoryGib = 1e9;
constexpr double kMaxTimeLimitMinutes = 1e8;

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
  run->add_option("config", ra.config, "scenario TOML file")->required()->check(CLI::ExistingFile);
  run->add_option("--trajectories,-n", ra.trajectories, "override [run] trajectories")
      ->check(whole_number(1, kMaxCount));
  run->add_option("--seed", ra.seed, "override [run] seed")->check(whole_number(0, kMaxCount));
  run->add_option("--backend", ra.backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  run->add_option("--threads", ra.threads, "CPU threads (default: OpenMP's)")
      ->check(whole_number(0, INT_MAX, " (0: OpenMP's default)"));
  run->add_option("--out,-o", ra.out, "output folder (default out/<config name>)");
  run->add_option("--batch", ra.batch, "trajectories per batch and rank (default: the backend's)")
      ->check(whole_number(0, kMaxBatch, " (0: the backend's default; a partial tally counts in 32 bits)"));
  run->add_flag("--quiet,-q", ra.quiet, "no progress and no headline");
  run->add_option("--sampling", ra.sampling, "override [run] sampling: independent (MODEL.md v1) or latin")
      ->check(CLI::IsMember({"independent", "latin"}));
  run->add_option("--devices", ra.devices, "GPU devices to split the run across, e.g. --devices 0,1 (default 0)")
      ->delimiter(',')
      ->check(whole_number(0, INT_MAX));
  run->add_flag("--plot", ra.plot,
                "also write the charts (SVG, PNG; Python matplotlib) and report.html into the output folder");
  run->add_option("--checkpoint", ra.checkpoint,
                  "folder for the checkpoint (chipcast.ckpt), written atomically as the run goes; "
                  "on shared storage for MPI runs");
  run->add_flag("--resume", ra.resume,
                "continue the run saved in --checkpoint (starts afresh if there is none yet); a checkpoint of "
                "another config, seed or trajectory count is refused");
  run->add_option("--checkpoint-every", ra.checkpoint_every,
                  "minimum seconds between checkpoints (0 = after every batch); one is always written at the end "
                  "and when stopping")
      ->capture_default_str()
      ->check(real_number(0, false, INFINITY, "seconds"));
  run->add_option("--memory-limit", ra.memory_limit_gib,
                  "GiB the run's tallies may take (default: half of this machine's memory); a run that needs more "
                  "is refused before it starts (exit 2)")
      ->check(real_number(0, true, kMaxMemoryGib, "GiB"));
  run->add_option("--time-limit", ra.time_limit_minutes,
                  "minutes: stop at a batch boundary before this much wall time, write the checkpoint and exit "
                  "with status 75 (as on SIGTERM, SIGUSR1 or SIGINT); needs --checkpoint")
      ->check(real_number(0, true, kMaxTimeLimitMinutes, "minutes"));
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
