// The Kokkos backend against the OpenMP one: identical tallies and crossing times, for any batch size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "chipcast_config.h"
#include "host/config/scenario.h"
#include "host/run/runner.h"
#include "tests/support/model_fixtures.h"
#include "tests/support/source_paths.h"

#if CHIPCAST_HAVE_KOKKOS
#include "backends/kokkos/kokkos_backend.h"
#define CHIPCAST_TEST_KOKKOS 1
#else
#define CHIPCAST_TEST_KOKKOS 0
#endif

namespace chipcast {
namespace {

#if CHIPCAST_TEST_KOKKOS

using testing::lognormal_dist;
using testing::normal_dist;
using testing::triangular_dist;
using testing::uniform_dist;

// Every feature the kernels have: all distribution kinds (one truncated, one
// read from a quantile table), noisy yields and learning, HBM and packaging
// growth, three Markov regimes with their own effects, a scheduled event, two
// Poisson shocks with random losses, sustain > 1 and partial lane blocks.
std::unique_ptr<parity::ModelParams> busy_params(uint64_t seed) {
  using namespace parity;
  auto p = testing::brownian_params(0.4, 0.08, 0.25, 0.25, 40, seed);
  p->sustain = 2;
  // A monotone quantile table on [0, 1] (u^2), as a beta table would be.
  for (int i = 0; i < kTableSize; ++i) {
    const double u = static_cast<double>(i) / (kTableSize - 1);
    p->tables.q[0][i] = u * u;
  }
  Dist beta;
  beta.kind = DistKind::beta;
  beta.p0 = 0.05;
  beta.p1 = 0.6;
  beta.table = 0;
  for (int b = 0; b < kNumBlocs; ++b) {
    auto set = [&](int k, const Dist& d) { p->params[bloc_param_index(b, k)] = d; };
    Dist growth = normal_dist(b == kDomestic ? 0.10 : 0.03, 0.05);
    growth.u_lo = 0.05;  // truncated to [q(0.05), q(0.95)] and clamped
    growth.u_hi = 0.95;
    growth.lo = -0.1;
    growth.hi = 0.3;
    set(kWaferGrowth, growth);
    set(kWaferCap, lognormal_dist(b == kDomestic ? 4e4 : 6e4, 1.5));
    set(kYield0, uniform_dist(0.3, 0.6));
    set(kYieldMax, triangular_dist(0.6, 0.85, 0.95));
    set(kLearningRate, uniform_dist(0.2, 0.8));
    set(kYieldNoise, lognormal_dist(0.1, 1.5));
    set(kPerfGrowth, normal_dist(0.3, 0.05));
    set(kHbm0, lognormal_dist(3e5, 1.3));  // HBM and packaging can bind
    set(kHbmGrowth, normal_dist(0.15, 0.05));
    set(kHbmVol, uniform_dist(0.02, 0.1));
    set(kHbmPerChipGrowth, fixed_dist(0.1));
    set(kPackaging0, lognormal_dist(b == kDomestic ? 2e5 : 4e5, 1.5));
    set(kPackagingGrowth, normal_dist(0.2, 0.05));
  }
  p->num_regimes = 3;
  p->q[0][1] = 0.03;
  p->q[0][2] = 0.02;
  p->q[1][0] = 0.08;
  p->q[2][0] = 0.05;
  p->q[2][1] = 0.05;
  p->params[effect_param_index(1, kDomestic, kWaferGrowthAdj)] = normal_dist(-0.1, 0.05);
  p->params[effect_param_index(1, kForeign, kHbmMult)] = uniform_dist(0.5, 0.9);
  p->params[effect_param_index(2, kDomestic, kLearningMult)] = triangular_dist(1.0, 2.0, 4.0);
  p->params[effect_param_index(2, kForeign, kWaferGrowthAdj)] = beta;
  p->num_events = 1;
  p->events[0] = EventSpec{12, 2, 0.4};
  p->num_shocks = 2;
  p->shocks[0].bloc = kForeign;
  p->shocks[0].loss = beta;
  p->params[shock_rate_index(0)] = lognormal_dist(0.1, 2.0);
  p->shocks[1].bloc = kDomestic;
  p->shocks[1].loss = uniform_dist(0.1, 0.3);
  p->params[shock_rate_index(1)] = fixed_dist(0.15);
  return p;
}

Tally run_on(const std::string& backend_name, const parity::ModelParams& p, uint64_t first, uint64_t n, uint64_t batch,
             int threads = 0) {
  BackendOptions o;
  o.threads = threads;
  auto backend = make_backend(backend_name, o);
  return run_batches(*backend, p, RunPlan{first, n, batch}, nullptr);
}

// Counts of differing bins, so a failure says where rather than only "not equal".
void expect_identical(const Tally& a, const Tally& b, const std::string& what) {
  ASSERT_EQ(a.level.size(), b.level.size()) << what;
  ASSERT_EQ(a.crossing.size(), b.crossing.size()) << what;
  size_t level_diff = 0, crossing_diff = 0;
  for (size_t i = 0; i < a.level.size(); ++i) level_diff += a.level[i] != b.level[i];
  for (size_t i = 0; i < a.crossing.size(); ++i) crossing_diff += a.crossing[i] != b.crossing[i];
  EXPECT_EQ(level_diff, 0u) << what << ": level bins that differ";
  EXPECT_EQ(crossing_diff, 0u) << what << ": crossing bins that differ";
  EXPECT_EQ(a.anomalies, b.anomalies) << what;
  EXPECT_EQ(a.trajectories, b.trajectories) << what;
  EXPECT_TRUE(a == b) << what;
}

// The scenario really exercises crossings, censoring and regimes (else
// equality would prove little).
void expect_busy(const Tally& t) {
  const uint64_t* row = t.crossing_row(parity::kUnits);
  const uint64_t censored = row[t.shape.crossing_bins() - 1];
  EXPECT_GT(censored, t.trajectories / 20);
  EXPECT_LT(censored, t.trajectories - t.trajectories / 20);
  uint64_t spread_bins = 0;
  for (int b = 0; b < kLevelBins; ++b) spread_bins += t.level_row(t.shape.periods - 1, 0)[b] > 0;
  EXPECT_GT(spread_bins, 50u) << "the last period's ratio should be spread over many bins";
}

constexpr uint64_t kFirst = 1000003;  // not a multiple of the lane count
constexpr uint64_t kCount = 20011;    // a partial last block and chunk

TEST(KokkosBackend, TallyIsExactlyTheOpenMPOne) {
  auto p = busy_params(20260415);
  const Tally omp = run_on("openmp", *p, kFirst, kCount, 0, 2);
  const Tally kk = run_on("kokkos", *p, kFirst, kCount, 0);
  expect_busy(omp);
  expect_identical(omp, kk, "openmp (2 threads) vs kokkos");
}

// The shared v2 scenario (every MODEL-v2.md section 1-5 key) through the config loader.
TEST(KokkosBackend, V2AllKeysTallyIsExactlyTheOpenMPOne) {
  const auto sc = load_scenario(testing::kV2AllKeysToml);
  const Tally omp = run_on("openmp", sc->params, kFirst, kCount, 0, 2);
  const Tally kk = run_on("kokkos", sc->params, kFirst, kCount, 1000);
  expect_busy(omp);
  expect_identical(omp, kk, "v2_all_keys.toml: openmp (2 threads) vs kokkos");
  std::vector<float> a(kNumMetrics * 3000), b(kNumMetrics * 3000);
  make_backend("openmp", BackendOptions{})->crossing_times(sc->params, kFirst, 3000, a.data());
  make_backend("kokkos", BackendOptions{})->crossing_times(sc->params, kFirst, 3000, b.data());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

// The device algorithm (one lane, scalar libm) on the v2 scenario: crossing
// times within 1e-3 years (a tenth of a bin) but for 1 in 1000, as for v1.
TEST(KokkosBackend, V2AllKeysSingleLaneAgreesOnTheHost) {
  const auto sc = load_scenario(testing::kV2AllKeysToml);
  auto single = make_kokkos_single_lane_backend_for_testing(BackendOptions{});
  std::vector<float> a(kNumMetrics * 4000), b(kNumMetrics * 4000);
  single->crossing_times(sc->params, kFirst, 4000, a.data());
  make_backend("openmp", BackendOptions{})->crossing_times(sc->params, kFirst, 4000, b.data());
  size_t far = 0;
  for (size_t i = 0; i < a.size(); ++i) far += !(std::fabs(a[i] - b[i]) <= 1e-3f) && !(a[i] == b[i]);
  EXPECT_LE(far, a.size() / 1000);
}

TEST(KokkosBackend, BatchSizeDoesNotChangeTheTally) {
  auto p = busy_params(77);
  const Tally a = run_on("kokkos", *p, kFirst, kCount, 1000);
  const Tally b = run_on("kokkos", *p, kFirst, kCount, 7777);
  const Tally omp = run_on("openmp", *p, kFirst, kCount, 4096, 1);
  expect_identical(a, b, "kokkos batch 1000 vs 7777");
  expect_identical(a, omp, "kokkos batch 1000 vs openmp batch 4096");
}

TEST(KokkosBackend, CrossingTimesAreExactlyTheOpenMPOnes) {
  auto p = busy_params(9);
  const uint64_t n = 5003;
  std::vector<float> omp(kNumMetrics * n, -7.0f), kk(kNumMetrics * n, -9.0f);
  make_backend("openmp", BackendOptions{})->crossing_times(*p, kFirst, n, omp.data());
  make_backend("kokkos", BackendOptions{})->crossing_times(*p, kFirst, n, kk.data());
  size_t differ = 0, crossed = 0;
  for (size_t i = 0; i < omp.size(); ++i) {
    differ += std::memcmp(&omp[i], &kk[i], sizeof(float)) != 0;
    crossed += omp[i] >= 0.0f;
  }
  EXPECT_EQ(differ, 0u) << "of " << omp.size() << " crossing times";
  EXPECT_GT(crossed, omp.size() / 20);
  EXPECT_LT(crossed, omp.size() - omp.size() / 20);
}

// The device algorithm (one lane per thread, atomic tally) run on the host:
// the same trajectories, but the scalar math (glibc) and the vectorised one
// (libmvec) round a few results differently, which moves a handful of counts
// by one bin; on a GPU the same holds for its own math library.
TEST(KokkosBackend, SingleLaneDeviceAlgorithmAgreesOnTheHost) {
  auto p = busy_params(31);
  auto single = make_kokkos_single_lane_backend_for_testing(BackendOptions{});
  const Tally s = run_batches(*single, *p, RunPlan{kFirst, kCount, 4000}, nullptr);
  const Tally omp = run_on("openmp", *p, kFirst, kCount, 0);
  ASSERT_EQ(s.trajectories, omp.trajectories);
  EXPECT_EQ(s.anomalies, omp.anomalies);
  // How many counts rounding can move. A count moves only when the two math
  // libraries' float results put a value on either side of a bin edge. Within
  // a bin a value's position is uniform on the scale of a rounding error, so
  // a value off by d moves with probability d / (bin width).
  //  - Levels: binned from float natural logs below 32 in magnitude, whose
  //    ulp is 2^-18, i.e. 2^-18 * log10(e) / 0.01 = 1.66e-4 of a 0.01-decade
  //    bin. Of the N = kCount * periods * kNumSeries = 7.2 million level
  //    counts, N * f * k * 1.66e-4 move when a fraction f of the values is
  //    off by k ulp. The limit below allows f * k = 1/6 (one value in six off
  //    by an ulp; seen: 5-9 moved, f * k = 0.006), while an error in the
  //    algorithm that changes a value by a bin in 1 % of the trajectories
  //    moves N / 100 = 72,000 counts.
  //  - Crossings: 3 * kCount crossing times in bins of 0.01 year. The limit
  //    allows 1 move in 1000 trajectories, the share whose crossing time the
  //    last check below allows to be more than 1e-3 years (a tenth of a bin)
  //    off; seen: none moved, times at most 3e-4 years apart.
  uint64_t moved = 0, level_moved = 0;
  for (size_t i = 0; i < s.crossing.size(); ++i)
    moved += s.crossing[i] > omp.crossing[i] ? s.crossing[i] - omp.crossing[i] : 0;
  for (size_t i = 0; i < s.level.size(); ++i) level_moved += s.level[i] > omp.level[i] ? s.level[i] - omp.level[i] : 0;
  const double level_counts = static_cast<double>(kCount) * p->periods * kNumSeries;
  const double move_per_ulp = std::ldexp(1.0, -18) * 0.43429448190325182765 / kLog10Width;
  EXPECT_LE(moved, kCount / 1000) << "crossing counts that moved bins";
  EXPECT_LE(static_cast<double>(level_moved), level_counts * move_per_ulp / 6) << "level counts that moved bins";
  for (int m = 0; m < kNumMetrics; ++m) {
    uint64_t sum = 0;
    for (int b = 0; b < s.shape.crossing_bins(); ++b) sum += s.crossing_row(m)[b];
    EXPECT_EQ(sum, kCount) << "metric " << m;
  }
  std::vector<float> a(kNumMetrics * 2000), b(kNumMetrics * 2000);
  single->crossing_times(*p, kFirst, 2000, a.data());
  make_backend("openmp", BackendOptions{})->crossing_times(*p, kFirst, 2000, b.data());
  size_t far = 0;
  for (size_t i = 0; i < a.size(); ++i) far += std::fabs(a[i] - b[i]) > 1e-3f;
  EXPECT_LE(far, a.size() / 1000);
}

TEST(KokkosBackend, DescribesVersionAndExecutionSpace) {
  const std::string line = kokkos_info_line();
  EXPECT_EQ(line.rfind("kokkos: ", 0), 0u) << line;
  EXPECT_TRUE(line.find("(host)") != std::string::npos || line.find("(device)") != std::string::npos) << line;
  auto b = make_backend("kokkos", BackendOptions{});
  EXPECT_EQ(b->name(), "kokkos");
  EXPECT_EQ(b->describe().rfind("kokkos ", 0), 0u) << b->describe();
  bool listed = false;
  for (const auto& n : compiled_backends()) listed |= n == "kokkos";
  EXPECT_TRUE(listed);
}

TEST(KokkosBackend, RuntimeFlagsAreTakenOutOfTheCommandLine) {
  std::string words[] = {"chipcast", "run", "--kokkos-num-threads=2", "a.toml", "--kokkos-device-id=0", "-n", "5"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(&w[0]);
  argv.push_back(nullptr);
  const int argc = kokkos_remove_args(static_cast<int>(argv.size()) - 1, argv.data());
  ASSERT_EQ(argc, 5);
  EXPECT_STREQ(argv[1], "run");
  EXPECT_STREQ(argv[2], "a.toml");
  EXPECT_STREQ(argv[3], "-n");
  EXPECT_STREQ(argv[4], "5");
  EXPECT_EQ(argv[5], nullptr);
  // Kokkos is running by now (earlier tests, or this one): flags come too late.
  make_backend("kokkos", BackendOptions{});
  EXPECT_THROW(kokkos_set_args(argc, argv.data()), std::logic_error);
}

#else

TEST(KokkosBackend, NotBuilt) {
  GTEST_SKIP() << "the Kokkos backend is not compiled into this build (configure with --preset kokkos, "
                  "or -DCHIPCAST_ENABLE_KOKKOS=ON and a Kokkos found by find_package)";
}

#endif

}  // namespace
}  // namespace chipcast
