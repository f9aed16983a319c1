// Baseline throughput: trajectories/s and trajectory-periods/s per thread, and peak memory, for a range of sizes.
// Usage: bench_throughput [CONFIG] [TRAJECTORIES] [BACKEND] [THREADS] [WARMUP_TRAJECTORIES]
// A warm-up (untimed, on the same backend object) keeps one-time costs out of
// the figure: a GPU's allocations and module load.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/backend.h"
#include "host/config/scenario.h"
#include "host/run/runner.h"

int main(int argc, char** argv) {
  using namespace chipcast;
  const std::string config = argc > 1 ? argv[1] : "configs/baseline.toml";
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const std::string backend_name = argc > 3 ? argv[3] : "openmp";
  const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
  const uint64_t warmup = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0;
  Overrides overrides;
  overrides.trajectories = n;
  auto scenario = load_scenario(config, overrides);
  BackendOptions options;
  options.threads = threads;
  auto backend = make_backend(backend_name, options);
  if (warmup) run_batches(*backend, scenario->params, RunPlan{0, warmup, 0}, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const Tally tally = run_batches(*backend, scenario->params, RunPlan{0, n, 0}, nullptr);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const int used = threads > 0 ? threads : 1;
  const double tp = static_cast<double>(n) * scenario->params.periods;
  std::printf(
      "throughput config=%s backend=%s detail=\"%s\" trajectories=%llu seconds=%.3f traj_per_s=%.3e "
      "traj_periods_per_s=%.3e per_thread_traj_per_s=%.3e peak_rss_mib=%.1f\n",
      config.c_str(), backend->name().c_str(), backend->describe().c_str(),
      static_cast<unsigned long long>(tally.trajectories), s, n / s, tp / s, n / s / used, ru.ru_maxrss / 1024.0);
}
