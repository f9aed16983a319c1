// The chipcast command line: run, validate, info, plot, compare, sensitivity.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <omp.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "chipcast_config.h"

#include "backends/backend.h"
#include "host/analysis/analysis_cli.h"
#include "host/config/scenario.h"
#include "host/report/plot.h"
#include "host/report/report.h"
#include "host/run/checkpoint.h"
#include "host/run/mpi_context.h"
#include "host/run/progress.h"
#include "host/run/runner.h"
#include "host/run/signals.h"
#include "host/stats/summary.h"

#if CHIPCAST_HAVE_KOKKOS
#include "backends/kokkos/kokkos_backend.h"
#endif

namespace {

using namespace chipcast;

// Exit statuses a script can tell apart (host/run/README-hpc.md).
constexpr int kExitOk = 0;
constexpr int kExitConfig = 2;        // bad scenario or flags
constexpr int kExitRuntime = 3;       // backend, MPI or I/O failure
constexpr int kExitCheckpoint = 4;    // checkpoint refused (corrupt, another run, or exists without --resume)
constexpr int kExitCheckpointed = 75; // EX_TEMPFAIL: stopped early with a checkpoint written; resume (requeue) me

// Default minimum seconds between checkpoints: an interval, not every batch,
// keeps the cost (an MPI reduction of ~30 MB of histograms and one fsynced
// write of a few MB for the baseline) far below 2 % of the run.
constexpr double kDefaultCheckpointEvery = 60.0;

struct RunArgs {
  std::string config;
  std::optional<uint64_t> trajectories, seed;
  std::string backend = "openmp";
  int threads = 0;
  std::string out;
  uint64_t batch = 0;
  bool quiet = false;
  std::string checkpoint;
  bool resume = false;
  double checkpoint_every = kDefaultCheckpointEvery;
  std::optional<double> time_limit_minutes;
  std::optional<std::string> sampling;
  std::vector<int> devices;
  bool plot = false;
};

std::vector<uint64_t> flatten(const TrajectoryRanges& set) {
  std::vector<uint64_t> v;
  for (const auto& r : set) {
    v.push_back(r.first);
    v.push_back(r.end);
  }
  return v;
}

TrajectoryRanges unflatten(const std::vector<uint64_t>& v) {
  TrajectoryRanges set;
  for (size_t i = 0; i + 1 < v.size(); i += 2) set.push_back({v[i], v[i + 1]});
  return set;
}

int cmd_run(const RunArgs& a, const std::string& command_line, std::chrono::steady_clock::time_point program_start,
            int* argc, char*** argv) {
  MpiContext mpi(argc, argv);
  const bool root = mpi.is_root();
  const bool quiet = a.quiet || !root;
  // Messages every rank would print alike come from rank 0 only.
  auto error = [&](const std::string& msg) {
    if (root) fmt::print(stderr, "error: {}\n", msg);
  };

  if (mpi.size() == 1 && MpiContext::launcher_tasks() > 1) {
    fmt::print(stderr,
               "error: this process is one of {} tasks the launcher started, but its MPI world has one rank: {}; "
               "each task would run the whole job\n",
               MpiContext::launcher_tasks(),
               MpiContext::compiled_with_mpi()
                   ? "the MPI library does not match the launcher (with Slurm, try srun --mpi=pmix or pmi2)"
                   : "this chipcast was built without MPI (configure with --preset mpi)");
    return kExitConfig;
  }
  const bool checkpointing = !a.checkpoint.empty();
  if (!checkpointing && (a.resume || a.time_limit_minutes)) {
    error(fmt::format("{} needs --checkpoint DIR (the folder the run is saved in and resumed from)",
                      a.resume ? "--resume" : "--time-limit"));
    return kExitConfig;
  }

  std::unique_ptr<Scenario> sc;
  try {
    sc = load_scenario(a.config, Overrides{a.trajectories, a.seed, a.sampling});
  } catch (const ConfigError& e) {
    error(e.what());
    return kExitConfig;
  }
  if (root)
    for (const auto& w : sc->warnings) fmt::print(stderr, "warning: {}\n", w);
  const std::filesystem::path out =
      a.out.empty() ? std::filesystem::path("out") / std::filesystem::path(a.config).stem() : std::filesystem::path(a.out);
  const std::filesystem::path ckdir(a.checkpoint);
  const std::string ckpath = checkpoint_path(ckdir).string();
  try {
    BackendOptions bo;
    bo.threads = a.threads;
    bo.devices = a.devices;
    // One rank per GPU: the node-local rank picks the device.
    if (mpi.size() > 1 && a.backend != "openmp" && a.devices.empty())
      bo.devices = {device_for_local_rank(mpi.local_rank())};
    auto backend = make_backend(a.backend, bo);

    // Rank 0 reads the checkpoint and tells the others what is done.
    int status = kExitOk;
    Tally base;
    TrajectoryRanges done;
    double prior_seconds = 0;
    if (root && checkpointing) {
      try {
        check_checkpoint_folder_writable(ckdir);
      } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        status = kExitRuntime;
      }
    }
    if (root && checkpointing && status == kExitOk) {
      try {
        std::optional<Checkpoint> c = read_checkpoint(ckdir);
        if (c && !a.resume) {
          throw CheckpointError(fmt::format(
              "{} exists ({} of {} trajectories done); pass --resume to continue it, or remove it or give "
              "--checkpoint another folder to start afresh. It was left untouched.",
              ckpath, count_of(c->done), c->total));
        }
        if (c) {
          check_checkpoint_matches(*c,
                                   CheckpointIdentity{sc->sha256, sc->path, sc->run.seed, sc->run.trajectories,
                                                      sc->params.periods, sc->params.sub_bins},
                                   ckpath);
          for (const std::string& w : checkpoint_resume_warnings(*c, backend->name(), ckpath))
            fmt::print(stderr, "warning: {}\n", w);
          base = std::move(c->tally);
          done = std::move(c->done);
          prior_seconds = c->seconds;
          remove_stale_checkpoint_temporaries(ckdir);
          if (!quiet)
            fmt::print(stderr, "resuming from {}: {} of {} trajectories done\n", ckpath, count_of(done),
                       sc->run.trajectories);
        } else if (a.resume && !quiet) {
          fmt::print(stderr, "no checkpoint in {} yet: starting from the beginning\n", ckdir.string());
        }
      } catch (const CheckpointError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        status = kExitCheckpoint;
      }
    }
    mpi.broadcast(status);
    if (status != kExitOk) return status;
    std::vector<uint64_t> flat = flatten(done);
    mpi.broadcast(flat);
    done = unflatten(flat);
    if (root && base.level.empty()) base = Tally(sc->params.periods, sc->params.sub_bins);

    RunInfo info;
    info.backend = backend->name();
    info.backend_detail = backend->describe();
    info.version = CHIPCAST_VERSION;
    info.started_utc = utc_now();
    info.command_line = command_line;
    info.threads = a.threads > 0 ? a.threads : omp_get_max_threads();
    info.ranks = mpi.size();
    Progress progress(quiet ? ProgressMode::quiet : ProgressMode::automatic, sc->run.trajectories,
                      "chipcast " + backend->name() + (mpi.size() > 1 ? fmt::format(" x{} ranks", mpi.size()) : ""));

    DistributedPlan plan;
    plan.total = sc->run.trajectories;
    plan.batch = a.batch;
    plan.done = done;
    plan.checkpoint_every_s = checkpointing ? a.checkpoint_every : -1.0;
    if (a.time_limit_minutes)
      plan.deadline = program_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                          std::chrono::duration<double>(*a.time_limit_minutes * 60.0));
    if (checkpointing) install_stop_handlers();

    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    CheckpointSink sink;
    if (root && checkpointing) {
      sink = [&](const Tally& merged, const TrajectoryRanges& covered) {
        Checkpoint c;
        c.config_sha256 = sc->sha256;
        c.config_path = sc->path;
        c.seed = sc->run.seed;
        c.total = sc->run.trajectories;
        c.backend = backend->name();
        c.seconds = prior_seconds + elapsed();
        c.done = covered;
        write_checkpoint(ckdir, c, merged);
      };
    }
    const DistributedResult result = run_distributed(*backend, sc->params, plan, base, mpi, root ? &progress : nullptr,
                                                     sink, [] { return stop_signal(); });
    if (result.status == RunStatus::stopped) {
      if (root)  // even with --quiet: the job log should say why it stopped
        fmt::print(stderr,
                   "stopped by {} after {} of {} trajectories; checkpoint in {}; continue with --resume "
                   "(exit status {})\n",
                   result.stop_reason, count_of(result.done), sc->run.trajectories, ckpath, kExitCheckpointed);
      // Rank 0's status is the job's; the others leave quietly so that
      // mpirun does not end the job while rank 0 is still finishing.
      return root ? kExitCheckpointed : kExitOk;
    }
    if (root) {
      info.seconds = prior_seconds + elapsed();
      const Summary summary = summarize(result.tally, sc->run);
      write_outputs(out, *sc, summary, info);
      if (a.plot) {
        const auto files = write_plots(out);
        if (!quiet) fmt::print("{} charts and report.html written to {}\n", files.size() - 1, out.string());
      }
      if (!quiet) {
        fmt::print("{}", headline(*sc, summary));
        fmt::print("{} trajectories in {:.2f} s on {}{}; outputs in {}\n", sc->run.trajectories, info.seconds,
                   info.backend_detail, mpi.size() > 1 ? fmt::format(", {} ranks", mpi.size()) : "", out.string());
        if (mpi.size() > 1)
          fmt::print("rank 0 waited {:.2f} s for the other ranks at step ends\n", result.sync_seconds);
        if (checkpointing && result.checkpoints > 0)
          fmt::print("{} checkpoints written to {} in {:.2f} s\n", result.checkpoints, ckpath,
                     result.checkpoint_seconds);
      }
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "error{}: {}\n", mpi.size() > 1 ? fmt::format(" (rank {})", mpi.rank()) : "", e.what());
    // The other ranks may wait in a collective: end the whole job.
    if (mpi.size() > 1) mpi.abort(kExitRuntime);
    return kExitRuntime;
  }
  return kExitOk;
}

int cmd_validate(const std::string& config) {
  try {
    auto sc = load_scenario(config);
    for (const auto& w : sc->warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print("# {} is valid: {} periods of {} years, {} regimes, {} shocks, {} events\n", config,
               sc->params.periods, sc->run.dt, sc->params.num_regimes, sc->params.num_shocks,
               sc->params.num_events);
    fmt::print("# resolved config (sha256 {}):\n{}\n", sc->sha256, sc->resolved_toml);
  } catch (const ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitConfig;
  }
  return kExitOk;
}

int cmd_info() {
  fmt::print("chipcast {}\n", CHIPCAST_VERSION);
  std::string names;
  for (const auto& n : compiled_backends()) names += (names.empty() ? "" : ", ") + n;
  fmt::print("backends: {}\n", names);
  for (const auto& line : backend_info_lines()) fmt::print("  {}\n", line);
  fmt::print("mpi: {}\n", MpiContext::compiled_with_mpi()
                               ? MpiContext::library_version() + " (run under mpirun or srun to split runs)"
                               : std::string("not built in (configure with --preset mpi)"));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const auto program_start = std::chrono::steady_clock::now();
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
#if CHIPCAST_HAVE_KOKKOS
  // Kokkos runtime flags (--kokkos-num-threads=N, --kokkos-device-id=N, ...)
  // are for Kokkos::initialize, not for CLI11, which would reject them.
  chipcast::kokkos_set_args(argc, argv);
  argc = chipcast::kokkos_remove_args(argc, argv);
#endif

  CLI::App app{"chipcast: Monte Carlo forecasts of AI-chip output parity"};
  app.require_subcommand(1);

  RunArgs ra;
  auto* run = app.add_subcommand("run", "run a scenario and write summary.json, crossing.csv, bands.csv");
  run->add_option("config", ra.config, "scenario TOML file")->required()->check(CLI::ExistingFile);
  run->add_option("--trajectories,-n", ra.trajectories, "override [run] trajectories")->check(CLI::PositiveNumber);
  run->add_option("--seed", ra.seed, "override [run] seed");
  run->add_option("--backend", ra.backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  run->add_option("--threads", ra.threads, "CPU threads (default: OpenMP's)")->check(CLI::NonNegativeNumber);
  run->add_option("--out,-o", ra.out, "output folder (default out/<config name>)");
  run->add_option("--batch", ra.batch, "trajectories per batch and rank (default: the backend's)");
  run->add_flag("--quiet,-q", ra.quiet, "no progress and no headline");
  run->add_option("--sampling", ra.sampling, "override [run] sampling: independent (MODEL.md v1) or latin")
      ->check(CLI::IsMember({"independent", "latin"}));
  run->add_option("--devices", ra.devices, "GPU devices to split the run across, e.g. --devices 0,1 (default 0)")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber);
  run->add_flag("--plot", ra.plot, "also write the SVG charts and report.html into the output folder");
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
      ->check(CLI::NonNegativeNumber);
  run->add_option("--time-limit", ra.time_limit_minutes,
                  "minutes: stop at a batch boundary before this much wall time, write the checkpoint and exit "
                  "with status 75 (as on SIGTERM, SIGUSR1 or SIGINT); needs --checkpoint")
      ->check(CLI::PositiveNumber);
  run->footer(
      "Exit status: 0 done; 2 bad config or flags; 3 runtime failure (resume from the checkpoint); 4 checkpoint "
      "refused (another run or corrupt; left untouched); 75 stopped early with a checkpoint written (resume with "
      "--resume). Under MPI (mpirun/srun) the trajectories are split across ranks; rank 0 writes. See "
      "host/run/README-hpc.md.");

  std::string vconfig;
  auto* validate = app.add_subcommand("validate", "check a scenario and print it resolved");
  validate->add_option("config", vconfig, "scenario TOML file")->required()->check(CLI::ExistingFile);

  auto* info = app.add_subcommand("info", "version, backends, devices and threads");

  std::string plot_dir;
  auto* plot = app.add_subcommand("plot", "write SVG charts and report.html from a run's output folder");
  plot->add_option("dir", plot_dir, "output folder of a run (summary.json, crossing.csv, bands.csv)")
      ->required()
      ->check(CLI::ExistingDirectory);

  int analysis_status = -1;
  add_analysis_commands(app, analysis_status);

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
