// CLI11 definitions of `chipcast compare` and `chipcast sensitivity`.
#include "host/analysis/analysis_cli.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <memory>
#include <string>
#include <vector>

#include "host/analysis/compare.h"
#include "host/analysis/sensitivity.h"

namespace chipcast {

void add_analysis_commands(CLI::App& app, int& exit_status) {
  int* status = &exit_status;
  const std::vector<std::string> samplings = {"independent", "latin"};

  struct CompareArgs {
    std::vector<std::string> configs;
    CompareOptions options;
  };
  auto ca = std::make_shared<CompareArgs>();
  auto* compare = app.add_subcommand(
      "compare",
      "run scenarios with common random numbers and report, against the first, the shift of the median parity year "
      "and of P(parity by each period end) with paired standard errors; writes compare.json and compare.csv");
  compare->add_option("configs", ca->configs, "scenario TOML files; the first is the reference")
      ->required()
      ->check(CLI::ExistingFile);
  compare->add_option("--trajectories,-n", ca->options.trajectories, "trajectories per scenario (default: the first config's)")
      ->check(CLI::PositiveNumber);
  compare->add_option("--seed", ca->options.seed, "seed for every scenario (default: the first config's)");
  compare->add_option("--sampling", ca->options.sampling, "independent or latin (overrides [run] sampling)")
      ->check(CLI::IsMember(samplings));
  compare->add_option("--backend", ca->options.backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  compare->add_option("--threads", ca->options.threads, "CPU threads (default: OpenMP's)")->check(CLI::NonNegativeNumber);
  compare->add_option("--out,-o", ca->options.out, "output folder (default out/compare)");
  compare->add_flag("--quiet,-q", ca->options.quiet, "no progress and no headline");
  compare->callback([ca, status] {
    if (ca->configs.size() < 2) {
      fmt::print(stderr, "error: compare needs at least two configs (the first is the reference), got {}\n",
                 ca->configs.size());
      *status = analysis::kExitUsage;
      return;
    }
    *status = cmd_compare(ca->configs, ca->options);
  });

  struct SensitivityArgs {
    std::string config;
    SensitivityOptions options;
  };
  auto sa = std::make_shared<SensitivityArgs>();
  auto* sens = app.add_subcommand(
      "sensitivity",
      "tornado (each parameter at its 10th/90th percentile, the others at their medians) and Sobol first-order and "
      "total indices with bootstrap intervals; writes sensitivity.json and sensitivity.csv");
  sens->add_option("config", sa->config, "scenario TOML file")->required()->check(CLI::ExistingFile);
  sens->add_option("--output", sa->options.output,
                   "parity_year:METRIC (censored at the horizon) or p_parity_by:YEAR:METRIC; METRIC units, compute "
                   "or memory")
      ->capture_default_str();
  sens->add_option("--base-samples", sa->options.base_samples,
                   "N, rows of each Saltelli matrix; the cost is (factors + 2) N trajectories")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{2}, (uint64_t{1} << 32) - 1));
  sens->add_option("--bootstrap", sa->options.bootstrap, "bootstrap replicates for the 95 % intervals")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sens->add_flag("--group-policy", sa->options.group_policy,
                 "treat every regime effect and shock rate as one factor, policy_and_shocks");
  sens->add_option("--parameters", sa->options.parameters,
                   "comma-separated parameters or groups to index (default: all uncertain); the others still vary")
      ->delimiter(',');
  sens->add_option("--tornado-trajectories", sa->options.tornado_trajectories,
                   "trajectories per tornado setting (the noise still varies)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{2}, uint64_t{1} << 40));
  sens->add_option("--seed", sa->options.seed, "override [run] seed");
  sens->add_option("--sampling", sa->options.sampling, "independent or latin (overrides [run] sampling)")
      ->check(CLI::IsMember(samplings));
  sens->add_option("--backend", sa->options.backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  sens->add_option("--threads", sa->options.threads, "CPU threads (default: OpenMP's)")->check(CLI::NonNegativeNumber);
  sens->add_option("--out,-o", sa->options.out, "output folder (default out/<config name>)");
  sens->add_flag("--quiet,-q", sa->options.quiet, "no progress and no headline");
  sens->callback([sa, status] { *status = cmd_sensitivity(sa->config, sa->options); });
}

}  // namespace chipcast
