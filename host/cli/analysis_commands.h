// `chipcast compare` and `chipcast sensitivity`: their flags, and the commands, which run the analyses through a RunSession.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "host/analysis/sensitivity.h"

namespace CLI {
class App;
}

namespace chipcast::cli {

struct CompareArgs {
  std::vector<std::string> configs;      // the first is the reference
  std::optional<uint64_t> trajectories;  // default: the first config's [run] trajectories
  std::optional<uint64_t> seed;          // default: the first config's [run] seed, used for every scenario
  std::optional<std::string> sampling;   // overrides every config's [run] sampling
  std::string backend = "openmp";
  int threads = 0;
  std::string out;  // default: out/compare
  bool quiet = false;
};

struct SensitivityArgs {
  std::string config;
  analysis::SensitivityRequest request;
  std::optional<uint64_t> seed;         // default: the config's [run] seed
  std::optional<std::string> sampling;  // overrides [run] sampling (latin: over the N rows)
  std::string backend = "openmp";
  int threads = 0;
  std::string out;  // default: out/<config name>
  bool quiet = false;
};

// Writes compare.json and compare.csv into args.out and prints a headline
// unless quiet. Returns the exit status (exit_status.h: 0, 2 bad config or
// flags with nothing written, 3 backend or I/O).
int cmd_compare(const CompareArgs& args);
// Writes sensitivity.json and sensitivity.csv into args.out; statuses as cmd_compare.
int cmd_sensitivity(const SensitivityArgs& args);

// Adds `compare` and `sensitivity` to `app` with their options. When either
// is parsed, its callback (run by app.parse) executes the command and stores
// its exit status in `exit_status`; otherwise `exit_status` is left
// untouched. `exit_status` must outlive app.parse. In main():
//
//   int analysis_status = -1;
//   add_analysis_commands(app, analysis_status);
//   ... app.parse(argc, argv) ...
//   if (analysis_status >= 0) return analysis_status;
void add_analysis_commands(CLI::App& app, int& exit_status);

}  // namespace chipcast::cli
