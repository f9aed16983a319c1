// `chipcast compare` and `chipcast sensitivity`: CLI11 definitions, and the commands around the analyses.
#include "host/cli/analysis_commands.h"

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <climits>
#include <filesystem>
#include <memory>

#include "host/analysis/compare.h"
#include "host/cli/error_report.h"
#include "host/cli/exit_status.h"
#include "host/cli/flag_validators.h"
#include "host/report/output_set.h"
#include "host/run/run_session.h"

namespace chipcast::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

SessionOptions session_options(const std::string& backend, int threads) {
  SessionOptions so;
  so.backend = backend;
  so.threads = threads;
  so.abort_exit_status = kExitRuntime;
  return so;
}

}  // namespace

int cmd_compare(const CompareArgs& a) {
  using namespace analysis;
  if (a.configs.size() < 2) {
    fmt::print(stderr, "error: compare needs at least two configs (the first is the reference), got {}\n",
               a.configs.size());
    return kExitConfig;
  }
  try {
    RunSession session(session_options(a.backend, a.threads));
    const auto loaded = load_compared_scenarios(session, a.configs, Overrides{a.trajectories, a.seed, a.sampling});
    std::vector<const Scenario*> scenarios;
    for (const auto& s : loaded) {
      if (!a.quiet)
        for (const auto& w : s->warnings) fmt::print(stderr, "warning: {}\n", w);
      scenarios.push_back(s.get());
    }
    const std::filesystem::path out =
        a.out.empty() ? std::filesystem::path("out") / "compare" : std::filesystem::path(a.out);
    OutputSet set = OutputSet::open(out, OutputKind::compare);  // before the work: a refused folder fails now
    AnalysisInfo info = analysis_info(session);
    const auto t0 = Clock::now();
    const uint64_t n = scenarios[0]->run.trajectories;
    auto last = t0;
    const auto progress = [&](uint64_t done) {
      const auto now = Clock::now();
      if (a.quiet || done >= n || now - last < std::chrono::seconds(5)) return;
      last = now;
      fmt::print(stderr, "compare: {}/{} trajectories x {} scenarios\n", done, n, scenarios.size());
    };
    const Comparison c = compare_scenarios(scenarios, session, n, kCrossingChunk, progress);
    info.seconds = seconds_since(t0);
    write_compare_outputs(set.path(), c, info);
    set.commit();
    if (!a.quiet) {
      fmt::print("{}", compare_headline(c, scenarios[0]->run.horizon_year));
      fmt::print("{} scenarios x {} trajectories in {:.2f} s on {}; outputs in {}\n", scenarios.size(), n, info.seconds,
                 info.backend_detail, out.string());
    }
  } catch (const std::exception& e) {
    return report_error(e);
  }
  return kExitOk;
}

int cmd_sensitivity(const SensitivityArgs& a) {
  using namespace analysis;
  try {
    RunSession session(session_options(a.backend, a.threads));
    // Latin sampling stratifies over the N rows of each matrix.
    const auto sc = session.load(a.config, Overrides{a.request.base_samples, a.seed, a.sampling});
    const SensitivityPlan plan = plan_sensitivity(*sc, a.request, a.threads);
    if (!a.quiet)
      for (const auto& w : sc->warnings) fmt::print(stderr, "warning: {}\n", w);
    const std::filesystem::path out = a.out.empty()
                                          ? std::filesystem::path("out") / std::filesystem::path(a.config).stem()
                                          : std::filesystem::path(a.out);
    OutputSet set = OutputSet::open(out, OutputKind::sensitivity);  // before the work: a refused folder fails now
    AnalysisInfo info = analysis_info(session);
    const auto t0 = Clock::now();
    auto last = t0;
    const auto progress = [&](int done, int all) {
      const auto now = Clock::now();
      if (a.quiet || done >= all || now - last < std::chrono::seconds(5)) return;
      last = now;
      fmt::print(stderr, "sensitivity: {}/{} designs\n", done, all);
    };
    const SensitivityResult r = run_sensitivity(*sc, session, plan, progress);
    info.seconds = seconds_since(t0);
    write_sensitivity_outputs(set.path(), r, *sc, info);
    set.commit();
    if (!a.quiet) {
      fmt::print("{}", sensitivity_headline(r));
      fmt::print(
          "{} trajectories in {:.2f} s (Saltelli runs {:.2f} s, bootstrap {:.2f} s, tornado {:.2f} s) on {}; "
          "outputs in {}\n",
          r.trajectories_run, info.seconds, r.seconds_sobol_runs, r.seconds_bootstrap, r.seconds_tornado,
          info.backend_detail, out.string());
    }
  } catch (const std::exception& e) {
    return report_error(e);
  }
  return kExitOk;
}

void add_analysis_commands(CLI::App& app, int& exit_status) {
  int* status = &exit_status;
  const std::vector<std::string> samplings = {"independent", "latin"};

  auto ca = std::make_shared<CompareArgs>();
  auto* compare = app.add_subcommand(
      "compare",
      "run scenarios with common random numbers and report, against the first, the shift of the median parity year "
      "and of P(parity by each period end) with paired standard errors; writes compare.json and compare.csv");
  compare->add_option("configs", ca->configs, "scenario TOML files; the first is the reference")
      ->required()
      ->check(CLI::ExistingFile);
  compare->add_option("--trajectories,-n", ca->trajectories, "trajectories per scenario (default: the first config's)")
      ->check(whole_number(1, INT64_MAX));
  compare->add_option("--seed", ca->seed, "seed for every scenario (default: the first config's)")
      ->check(whole_number(0, INT64_MAX));
  compare->add_option("--sampling", ca->sampling, "independent or latin (overrides [run] sampling)")
      ->check(CLI::IsMember(samplings));
  compare->add_option("--backend", ca->backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  compare->add_option("--threads", ca->threads, "CPU threads (default: OpenMP's)")
      ->check(whole_number(0, INT_MAX, " (0: OpenMP's default)"));
  compare->add_option("--out,-o", ca->out, "output folder (default out/compare)");
  compare->add_flag("--quiet,-q", ca->quiet, "no progress and no headline");
  compare->callback([ca, status] { *status = cmd_compare(*ca); });

  auto sa = std::make_shared<SensitivityArgs>();
  auto* sens = app.add_subcommand(
      "sensitivity",
      "tornado (each parameter at its 10th/90th percentile, the others at their medians) and Sobol first-order and "
      "total indices with bootstrap intervals; writes sensitivity.json and sensitivity.csv");
  sens->add_option("config", sa->config, "scenario TOML file")->required()->check(CLI::ExistingFile);
  sens->add_option("--output", sa->request.output,
                   "parity_year:METRIC (censored at the horizon) or p_parity_by:YEAR:METRIC; METRIC units, compute "
                   "or memory")
      ->capture_default_str();
  sens->add_option("--base-samples", sa->request.base_samples,
                   "N, rows of each Saltelli matrix; the cost is (factors + 2) N trajectories")
      ->capture_default_str()
      ->check(whole_number(2, (int64_t{1} << 32) - 1));
  sens->add_option("--bootstrap", sa->request.bootstrap, "bootstrap replicates for the 95 % intervals")
      ->capture_default_str()
      ->check(whole_number(0, INT_MAX));
  sens->add_flag("--group-policy", sa->request.group_policy,
                 "treat every regime effect and shock rate as one factor, policy_and_shocks");
  sens->add_option("--parameters", sa->request.parameters,
                   "comma-separated parameters or groups to index (default: all uncertain); the others still vary")
      ->delimiter(',');
  sens->add_option("--tornado-trajectories", sa->request.tornado_trajectories,
                   "trajectories per tornado setting (the noise still varies)")
      ->capture_default_str()
      ->check(whole_number(2, int64_t{1} << 40));
  sens->add_option("--seed", sa->seed, "override [run] seed")->check(whole_number(0, INT64_MAX));
  sens->add_option("--sampling", sa->sampling, "independent or latin (overrides [run] sampling)")
      ->check(CLI::IsMember(samplings));
  sens->add_option("--backend", sa->backend, "openmp, cuda, hip, kokkos or auto")->capture_default_str();
  sens->add_option("--threads", sa->threads, "CPU threads (default: OpenMP's)")
      ->check(whole_number(0, INT_MAX, " (0: OpenMP's default)"));
  sens->add_option("--out,-o", sa->out, "output folder (default out/<config name>)");
  sens->add_flag("--quiet,-q", sa->quiet, "no progress and no headline");
  sens->callback([sa, status] { *status = cmd_sensitivity(*sa); });
}

}  // namespace chipcast::cli
