// `chipcast run`: flags to RunOptions, the session's outcome to messages and an exit status.
#include "host/cli/run_command.h"

#include <fmt/core.h>

#include <filesystem>
#include <stdexcept>

#include "host/cli/console_observer.h"
#include "host/cli/error_report.h"
#include "host/cli/exit_status.h"
#include "host/report/report.h"

namespace chipcast::cli {

int cmd_run(const RunArgs& a, const std::string& command_line, std::chrono::steady_clock::time_point program_start,
            int* argc, char*** argv) {
  ConsoleObserver observer(a.quiet, /*warn_when_quiet=*/true);
  try {
    SessionOptions so;
    so.backend = a.backend;
    so.threads = a.threads;
    so.devices = a.devices;
    so.abort_exit_status = kExitRuntime;
    RunSession session(so, argc, argv);
    const bool root = session.speaks_for_job();
    if (a.checkpoint.empty() && (a.resume || a.time_limit_minutes)) {
      if (root)
        fmt::print(stderr, "error: {} needs --checkpoint DIR (the folder the run is saved in and resumed from)\n",
                   a.resume ? "--resume" : "--time-limit");
      return kExitConfig;
    }

    RunOptions ro;
    ro.out = a.out.empty() ? std::filesystem::path("out") / std::filesystem::path(a.config).stem()
                           : std::filesystem::path(a.out);
    ro.checkpoint = a.checkpoint;
    ro.resume = a.resume;
    ro.checkpoint_every_s = a.checkpoint_every;
    if (a.time_limit_minutes)
      ro.deadline = program_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(*a.time_limit_minutes * 60.0));
    ro.batch = a.batch;
    ro.command_line = command_line;
    ro.plot = a.plot;
    if (a.memory_limit_gib) ro.memory_limit_bytes = static_cast<uint64_t>(*a.memory_limit_gib * (1u << 30));

    const RunResult r = session.run(a.config, Overrides{a.trajectories, a.seed, a.sampling}, ro, &observer);
    // Rank 0's status is the job's; the others leave quietly so that a
    // launcher does not end the job while rank 0 is still finishing.
    if (!r.speaks_for_job) return kExitOk;
    const Scenario& sc = *r.scenario;
    if (r.outcome == RunOutcome::stopped) {
      // Even with --quiet: the job log should say why it stopped.
      fmt::print(stderr,
                 "stopped by {} after {} of {} trajectories; checkpoint in {}; continue with --resume "
                 "(exit status {})\n",
                 r.stop_reason, r.done, sc.run.trajectories, r.checkpoint_file.string(), kExitCheckpointed);
      return kExitCheckpointed;
    }
    const bool quiet = a.quiet;
    if (a.plot && !quiet)
      fmt::print("{} charts (SVG and PNG) and report.html written to {}\n", r.charts, ro.out.string());
    if (!quiet) {
      fmt::print("{}", headline(sc, *r.summary));
      fmt::print("{} trajectories in {:.2f} s on {}{}; outputs in {}\n", sc.run.trajectories, r.info.seconds,
                 r.info.backend_detail, r.info.ranks > 1 ? fmt::format(", {} ranks", r.info.ranks) : "",
                 ro.out.string());
      if (r.info.ranks > 1) fmt::print("rank 0 waited {:.2f} s for the other ranks at step ends\n", r.sync_seconds);
      if (!a.checkpoint.empty() && r.checkpoints > 0)
        fmt::print("{} checkpoints written to {} in {:.2f} s\n", r.checkpoints, r.checkpoint_file.string(),
                   r.checkpoint_seconds);
    }
  } catch (const std::exception& e) {
    return report_error(e);
  }
  return kExitOk;
}

}  // namespace chipcast::cli
