// The chipcast command line: run, validate, info.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <omp.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "host/report/report.h"
#include "host/run/progress.h"
#include "host/run/runner.h"
#include "host/stats/summary.h"

namespace {

using namespace chipcast;

// Exit statuses a script can tell apart.
constexpr int kExitOk = 0;
constexpr int kExitConfig = 2;   // bad scenario or flags
constexpr int kExitRuntime = 3;  // backend or I/O failure

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

struct RunArgs {
  std::string config;
  std::optional<uint64_t> trajectories, seed;
  std::string backend = "openmp";
  int threads = 0;
  std::string out;
  uint64_t batch = 0;
  bool quiet = false;
};

int cmd_run(const RunArgs& a, const std::string& command_line) {
  std::unique_ptr<Scenario> sc;
  try {
    sc = load_scenario(a.config, Overrides{a.trajectories, a.seed});
  } catch (const ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kExitConfig;
  }
  for (const auto& w : sc->warnings) fmt::print(stderr, "warning: {}\n", w);
  const std::filesystem::path out =
      a.out.empty() ? std::filesystem::path("out") / std::filesystem::path(a.config).stem() : std::filesystem::path(a.out);
  try {
    BackendOptions bo;
    bo.threads = a.threads;
    auto backend = make_backend(a.backend, bo);
    Progress progress(a.quiet ? ProgressMode::quiet : ProgressMode::automatic, sc->run.trajectories,
                      "chipcast " + backend->name());
    RunInfo info;
    info.backend = backend->name();
    info.backend_detail = backend->describe();
    info.version = CHIPCAST_VERSION;
    info.started_utc = utc_now();
    info.command_line = command_line;
    info.threads = a.threads > 0 ? a.threads : omp_get_max_threads();
    const auto t0 = std::chrono::steady_clock::now();
    const Tally tally = run_batches(*backend, sc->params, RunPlan{0, sc->run.trajectories, a.batch}, &progress);
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Summary summary = summarize(tally, sc->run);
    write_outputs(out, *sc, summary, info);
    if (!a.quiet) {
      fmt::print("{}", headline(*sc, summary));
      fmt::print("{} trajectories in {:.2f} s on {}; outputs in {}\n", sc->run.trajectories, info.seconds,
                 info.backend_detail, out.string());
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
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
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);

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
  run->add_option("--batch", ra.batch, "trajectories per batch (default: the backend's)");
  run->add_flag("--quiet,-q", ra.quiet, "no progress and no headline");

  std::string vconfig;
  auto* validate = app.add_subcommand("validate", "check a scenario and print it resolved");
  validate->add_option("config", vconfig, "scenario TOML file")->required()->check(CLI::ExistingFile);

  auto* info = app.add_subcommand("info", "version, backends, devices and threads");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitConfig;
  }
  if (*run) return cmd_run(ra, command_line);
  if (*validate) return cmd_validate(vconfig);
  if (*info) return cmd_info();
  return kExitConfig;
}
