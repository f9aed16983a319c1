// `chipcast run`: its flags and the command, which calls the run session and prints the outcome.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "host/run/run_session.h"

namespace chipcast::cli {

struct RunArgs {
  std::string config;
  std::optional<uint64_t> trajectories, seed;
  std::string backend = "openmp";
  int threads = 0;
  std::string out;  // default out/<config name>
  uint64_t batch = 0;
  bool quiet = false;
  std::string checkpoint;
  bool resume = false;
  double checkpoint_every = kDefaultCheckpointEvery;
  std::optional<double> time_limit_minutes;  // from program_start
  std::optional<std::string> sampling;
  std::vector<int> devices;
  bool plot = false;
  std::optional<double> memory_limit_gib;  // --memory-limit; unset: half of the machine's memory
};

// The flags `run` and `calibrate` share (everything of run's but --plot), into `args`.
void add_run_flags(CLI::App* cmd, RunArgs& args);
// The session's and the run's options from the flags; `default_out` follows the
// config's name in the default output folder out/<config name><default_out>.
SessionOptions session_options(const RunArgs& args);
RunOptions run_options(const RunArgs& args, const std::string& command_line,
                       std::chrono::steady_clock::time_point program_start, const std::string& default_out = "");
// True (after rank 0 printed why) when --resume or --time-limit comes without --checkpoint.
bool refuse_resume_without_checkpoint(const RunArgs& args, bool root);

// Runs the scenario through a RunSession and returns the exit status
// (exit_status.h). Rank 0 prints the headline, the stop message and errors
// every rank meets alike; a rank's own failure names the rank.
int cmd_run(const RunArgs& args, const std::string& command_line, std::chrono::steady_clock::time_point program_start,
            int* argc, char*** argv);

}  // namespace chipcast::cli
