// `chipcast run`: flags to RunOptions, the session's outcome to messages and an exit status.
#include "host/cli/run_command.h"

#include <fmt/core.h>

#include <climits>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "host/cli/console_observer.h"
#include "host/cli/error_report.h"
#include "host/cli/exit_status.h"
#include "host/cli/flag_validators.h"
#include "host/report/report.h"

namespace chipcast::cli {
namespace {

// Flag limits: the config's own for counts and seeds (run.trajectories and
// run.seed are TOML integers); a backend run counts into 32-bit partial
// tallies; the memory limit in bytes must fit uint64_t (2^34 GiB); the time
// limit must fit the steady clock's int64 nanoseconds (292 years) after the
// program's start, 1e8 minutes being 190 years.
constexpr int64_t kMaxCount = INT64_MAX;
constexpr int64_t kMaxBatch = (int64_t{1} << 32) - 1;
constexpr double kMaxMemoryGib = 1e9;
constexpr double kMaxTimeLimitMinutes = 1e8;

}  // namespace

void add_run_flags(CLI::App* cmd, RunArgs& ra) {
  cmd->add_option("config", ra.config, "scenario TOML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--trajectories,-n", ra.trajectories, "override [run] trajectories")
      ->check(whole_number(1, kMaxCount));
  cmd->add_option("--seed", ra.seed, "override [run] seed")->check(whole_number(0, kMaxCount));
  cmd->add_option("--backend", ra.backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  cmd->add_option("--threads", ra.threads, "CPU threads (default: OpenMP's)")
      ->check(whole_number(0, INT_MAX, " (0: OpenMP's default)"));
  cmd->add_option("--out,-o", ra.out, "output folder (default out/<config name>)");
  cmd->add_option("--batch", ra.batch, "trajectories per batch and rank (default: the backend's)")
      ->check(whole_number(0, kMaxBatch, " (0: the backend's default; a partial tally counts in 32 bits)"));
  cmd->add_flag("--quiet,-q", ra.quiet, "no progress and no headline");
  cmd->add_option("--sampling", ra.sampling, "override [run] sampling: independent (MODEL.md v1) or latin")
      ->check(CLI::IsMember({"independent", "latin"}));
  cmd->add_option("--devices", ra.devices, "GPU devices to split the run across, e.g. --devices 0,1 (default 0)")
      ->delimiter(',')
      ->check(whole_number(0, INT_MAX));
  cmd->add_option("--checkpoint", ra.checkpoint,
                  "folder for the checkpoint (chipcast.ckpt), written atomically as the run goes; "
                  "on shared storage for MPI runs");
  cmd->add_flag("--resume", ra.resume,
                "continue the run saved in --checkpoint (starts afresh if there is none yet); a checkpoint of "
                "another config, seed or trajectory count is refused");
  cmd->add_option("--checkpoint-every", ra.checkpoint_every,
                  "minimum seconds between checkpoints (0 = after every batch); one is always written at the end "
                  "and when stopping")
      ->capture_default_str()
      ->check(real_number(0, false, INFINITY, "seconds"));
  cmd->add_option("--memory-limit", ra.memory_limit_gib,
                  "GiB the run's tallies may take (default: half of this machine's memory); a run that needs more "
                  "is refused before it starts (exit 2)")
      ->check(real_number(0, true, kMaxMemoryGib, "GiB"));
  cmd->add_option("--time-limit", ra.time_limit_minutes,
                  "minutes: stop at a batch boundary before this much wall time, write the checkpoint and exit "
                  "with status 75 (as on SIGTERM, SIGUSR1 or SIGINT); needs --checkpoint")
      ->check(real_number(0, true, kMaxTimeLimitMinutes, "minutes"));
}

SessionOptions session_options(const RunArgs& a) {
  SessionOptions so;
  so.backend = a.backend;
  so.threads = a.threads;
  so.devices = a.devices;
  so.abort_exit_status = kExitRuntime;
  return so;
}

RunOptions run_options(const RunArgs& a, const std::string& command_line,
                       std::chrono::steady_clock::time_point program_start, const std::string& default_out) {
  RunOptions ro;
  ro.out = a.out.empty()
               ? std::filesystem::path("out") / (std::filesystem::path(a.config).stem().string() + default_out)
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
  return ro;
}

bool refuse_resume_without_checkpoint(const RunArgs& a, bool root) {
  if (!a.checkpoint.empty() || !(a.resume || a.time_limit_minutes)) return false;
  if (root)
    fmt::print(stderr, "error: {} needs --checkpoint DIR (the folder the run is saved in and resumed from)\n",
               a.resume ? "--resume" : "--time-limit");
  return true;
}

int cmd_run(const RunArgs& a, const std::string& command_line, std::chrono::steady_clock::time_point program_start,
            int* argc, char*** argv) {
  ConsoleObserver observer(a.quiet, /*warn_when_quiet=*/true);
  try {
    RunSession session(session_options(a), argc, argv);
    if (refuse_resume_without_checkpoint(a, session.speaks_for_job())) return kExitConfig;
    const RunOptions ro = run_options(a, command_line, program_start);

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
