// `chipcast calibrate`: run's flags plus --observations, the session's calibrate() and its outcome as messages and an exit status.
#pragma once
#include <CLI/CLI.hpp>

#include <chrono>
#include <string>

#include "host/cli/run_command.h"

namespace chipcast::cli {

struct CalibrateArgs {
  RunArgs run;               // run's flags (add_run_flags); out defaults to out/<config name>-calibrate
  std::string observations;  // TOML file of [[observations]] only; empty: the scenario's own
};

// Adds the subcommand; its status goes into `exit_status` when it ran.
// `command_line` and `program_start` are read when it runs (provenance, --time-limit).
void add_calibrate_command(CLI::App& app, int& exit_status, const std::string& command_line,
                           std::chrono::steady_clock::time_point program_start, int* argc, char*** argv);

int cmd_calibrate(const CalibrateArgs& args, const std::string& command_line,
                  std::chrono::steady_clock::time_point program_start, int* argc, char*** argv);

}  // namespace chipcast::cli
