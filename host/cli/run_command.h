// `chipcast run`: its flags and the command, which calls the run session and prints the outcome.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// Runs the scenario through a RunSession and returns the exit status
// (exit_status.h). Rank 0 prints the headline, the stop message and errors
// every rank meets alike; a rank's own failure names the rank.
int cmd_run(const RunArgs& args, const std::string& command_line, std::chrono::steady_clock::time_point program_start,
            int* argc, char*** argv);

}  // namespace chipcast::cli
