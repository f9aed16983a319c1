// The GPU path (simulate functor, atomic histograms, one copy, Tally::add) on the CPU via Thrust's OMP system, against the OpenMP backend.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chipcast_config.h"
#include "tests/backends/test_gpu_scenario.h"

#if CHIPCAST_HAVE_THRUST_OMP
#include "backends/cuda/thrust_omp_path.h"

namespace chipcast {
namespace {

using namespace chipcast::testing;

std::unique_ptr<Backend> thrust_omp(int lanes, uint64_t piece) {
  ThrustOmpSettings s;
  s.lanes = lanes;
  s.piece = piece;
  return make_thrust_omp_backend(s);
}

std::unique_ptr<Backend> openmp() { return make_backend("openmp", BackendOptions{}); }

// With 16 lanes the functors compute exactly what the OpenMP backend computes
// (same code, same flags, same vector math), so the tallies must be equal,
// however the range is cut: pieces of 4099 leave partial lane blocks.
TEST(ThrustOmpPath, SixteenLanesEqualOpenMPExactly) {
  auto p = rich_scenario();
  const uint64_t n = 30000;
  const Tally ref = run_tally(*openmp(), *p, n);
  ASSERT_GT(ref.crossing_row(parity::kUnits)[ref.shape.crossing_bins() - 1], 0u) << "some trajectories are censored";
  ASSERT_LT(ref.crossing_row(parity::kUnits)[ref.shape.crossing_bins() - 1], n) << "some trajectories cross";
  for (uint64_t piece : {uint64_t{4099}, uint64_t{1} << 15}) {
    const Tally got = run_tally(*thrust_omp(16, piece), *p, n, 7001);
    EXPECT_TRUE(got == ref) << "piece " << piece << ": " << first_difference(got, ref);
  }
}

TEST(ThrustOmpPath, SixteenLaneCrossingTimesEqualOpenMPExactly) {
  auto p = rich_scenario(99);
  const uint64_t n = 20000;
  std::vector<float> a(3 * n), b(3 * n);
  openmp()->crossing_times(*p, 1000, n, a.data());
  thrust_omp(16, 3001)->crossing_times(*p, 1000, n, b.data());
  EXPECT_EQ(count_differing_trajectories(b, a, n, 0.0f), 0u);
}

// NaN ratios are counted as anomalies, never binned (periods and calendar years).
TEST(ThrustOmpPath, NanRatiosAreAnomalies) {
  auto p = nan_ratio_scenario();
  const uint64_t n = 5000;
  const Tally ref = run_tally(*openmp(), *p, n);
  const Tally got = run_tally(*thrust_omp(16, 1777), *p, n);
  EXPECT_EQ(got.anomalies[kAnomalyNanRatio], n * (p->periods + p->years) * kNumMetrics);
  EXPECT_TRUE(got == ref) << first_difference(got, ref);
}

// The other kinds through the GPU path's sink, each exactly as OpenMP counts
// them: a NaN domestic capacity makes every domestic level NaN (one NaN level
// per metric and period or year, its ratio not counted again); a domestic
// wafer growth of 1e37 against infinite foreign levels makes every ratio one
// of levels beyond single precision (issue 14's reproducer, with no NaN).
TEST(ThrustOmpPath, NanLevelsAndLostPrecisionAreCountedAsOpenMPCountsThem) {
  const uint64_t n = 3000;
  auto nan_level = nan_ratio_scenario();
  nan_level->params[parity::bloc_param_index(parity::kDomestic, parity::kWafers0)] = fixed_dist(NAN);
  auto lost = nan_ratio_scenario();
  lost->params[parity::bloc_param_index(parity::kDomestic, parity::kWafers0)] = fixed_dist(1e4);
  lost->params[parity::bloc_param_index(parity::kDomestic, parity::kWaferGrowth)] = fixed_dist(1e37);
  const uint64_t values = n * (nan_level->periods + nan_level->years) * kNumMetrics;
  for (const auto* p : {nan_level.get(), lost.get()}) {
    const Tally ref = run_tally(*openmp(), *p, n);
    const Tally got = run_tally(*thrust_omp(16, 1777), *p, n);
    const bool is_nan = p == nan_level.get();
    EXPECT_EQ(got.anomalies[kAnomalyNanLevel], is_nan ? values : 0u);
    EXPECT_EQ(got.anomalies[kAnomalyLostPrecision], is_nan ? 0u : values);
    EXPECT_EQ(got.anomalies[kAnomalyNanRatio], 0u);
    EXPECT_TRUE(got == ref) << first_difference(got, ref);
  }
}

// One trajectory per functor call, as on a GPU thread: scalar libm instead
// of libmvec, so values differ from the OpenMP backend by float rounding.
// The GPU backend's acceptance test, run here on the CPU: crossing times
// within 1e-4 years for >= 99.99 % of 100k trajectories, every quantile
// within one histogram bin.
TEST(ThrustOmpPath, OneLaneMatchesOpenMPWithinRounding) {
  auto p = rich_scenario(424242);
  const uint64_t n = 100000;
  std::vector<float> a(3 * n), b(3 * n);
  openmp()->crossing_times(*p, 0, n, a.data());
  auto scalar = thrust_omp(1, 1 << 15);
  scalar->crossing_times(*p, 0, n, b.data());
  const uint64_t differing = count_differing_trajectories(b, a, n, 1e-4f);
  std::printf("one lane vs OpenMP: %llu of %llu trajectories differ by more than 1e-4 years\n",
              static_cast<unsigned long long>(differing), static_cast<unsigned long long>(n));
  EXPECT_LE(differing, n / 10000);

  const Tally ref = run_tally(*openmp(), *p, n);
  const Tally got = run_tally(*scalar, *p, n);
  EXPECT_EQ(got.trajectories, n);
  const RunSettings rs = run_settings_for(*p);
  EXPECT_EQ(compare_summaries(summarize(got, rs), summarize(ref, rs), p->dt, p->sub_bins), 0);
}

// The shipped baseline scenario, through the config loader.
TEST(ThrustOmpPath, BaselineConfigEqualsOpenMPExactly) {
  auto sc = load_scenario(std::string(CHIPCAST_SOURCE_DIR) + "/configs/baseline.toml");
  const uint64_t n = 20000;
  const Tally ref = run_tally(*openmp(), sc->params, n);
  const Tally got = run_tally(*thrust_omp(16, 6000), sc->params, n);
  EXPECT_TRUE(got == ref) << first_difference(got, ref);
}

// The shared v2 scenario (every MODEL-v2.md section 1-5 key): 16 lanes exactly
// OpenMP; one lane (scalar libm, as a GPU thread) within rounding.
TEST(ThrustOmpPath, V2AllKeysEqualsOpenMP) {
  auto sc = load_scenario(std::string(CHIPCAST_SOURCE_DIR) + "/tests/models/data/v2_all_keys.toml");
  ASSERT_EQ(sc->params.v2, 1);
  const uint64_t n = 20000;
  const Tally ref = run_tally(*openmp(), sc->params, n);
  const Tally got = run_tally(*thrust_omp(16, 6000), sc->params, n);
  EXPECT_TRUE(got == ref) << first_difference(got, ref);
  std::vector<float> a(3 * n), b(3 * n);
  openmp()->crossing_times(sc->params, 0, n, a.data());
  thrust_omp(1, 1 << 15)->crossing_times(sc->params, 0, n, b.data());
  EXPECT_LE(count_differing_trajectories(b, a, n, 1e-4f), n / 1000);
}

TEST(ThrustOmpPath, RejectsBadSettings) {
  EXPECT_THROW(thrust_omp(8, 100), std::invalid_argument);
  EXPECT_THROW(thrust_omp(16, 0), std::invalid_argument);
}

}  // namespace
}  // namespace chipcast

#else

TEST(ThrustOmpPath, NotBuilt) {
  GTEST_SKIP() << "CCCL (Thrust) was not found at configure time, so the Thrust-OMP run of the GPU path is not "
                  "built (needs the CUDA toolkit's CCCL, e.g. /usr/local/cuda/lib64/cmake)";
}

#endif
