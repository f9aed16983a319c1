// The CUDA/HIP backend against the OpenMP backend: crossing times, quantiles, batch sizes, devices.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "chipcast_config.h"
#include "tests/backends/test_gpu_scenario.h"

#if CHIPCAST_HAVE_GPU
#include "backends/cuda/gpu_backend.h"

namespace chipcast {
namespace {

using namespace chipcast::testing;

std::string runtime_name() { return gpu_backend_name() == "hip" ? "HIP" : "CUDA"; }

std::unique_ptr<Backend> gpu(uint64_t device_batch = 0, std::vector<int> devices = {}) {
  BackendOptions o;
  o.devices = std::move(devices);
  GpuSettings s;
  s.device_batch = device_batch;
  return make_gpu_backend(o, s);
}

std::unique_ptr<Backend> openmp() { return make_backend("openmp", BackendOptions{}); }

// Runs without a device: the backend is listed, `info` says why no device is
// usable, and creating the backend fails with a message saying so.
TEST(GpuBackendWithoutDevice, InfoAndErrorNameTheProblem) {
  const auto names = compiled_backends();
  EXPECT_NE(std::find(names.begin(), names.end(), gpu_backend_name()), names.end());
  const auto lines = gpu_info_lines();
  ASSERT_FALSE(lines.empty());
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  if (gpu_device_count() > 0) GTEST_SKIP() << "a " << runtime_name() << " device is present";
  EXPECT_NE(lines[0].find("no " + runtime_name() + " device found ("), std::string::npos) << lines[0];
  try {
    gpu();
    ADD_FAILURE() << "make_gpu_backend did not throw without a device";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no " + runtime_name() + " device found"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--backend openmp"), std::string::npos) << e.what();
  }
  // `auto` falls back to the CPU.
  EXPECT_EQ(make_backend("auto", BackendOptions{})->name(), "openmp");
}

class GpuBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    if (gpu_device_count() == 0) GTEST_SKIP() << "no " << runtime_name() << " device: " << gpu_info_lines().front();
  }
};

// Per trajectory, the GPU's float math (its own logf/expf/sincosf) differs
// from the host's by rounding, which can move a crossing that sits next to
// the threshold; allowed: 0.01 % of trajectories beyond 1e-4 years.
TEST_F(GpuBackend, CrossingTimesMatchOpenMP) {
  auto p = rich_scenario(424242);
  const uint64_t n = 100000;
  std::vector<float> a(3 * n), b(3 * n);
  openmp()->crossing_times(*p, 0, n, a.data());
  gpu()->crossing_times(*p, 0, n, b.data());
  const uint64_t differing = count_differing_trajectories(b, a, n, 1e-4f);
  std::printf("%s vs openmp: %llu of %llu trajectories differ by more than 1e-4 years\n", gpu_backend_name().c_str(),
              static_cast<unsigned long long>(differing), static_cast<unsigned long long>(n));
  EXPECT_LE(differing, n / 10000);
}

// Crossing-year quantiles within one crossing bin (0.01 year) and band
// quantiles within one level bin (0.01 decade) of the CPU's.
TEST_F(GpuBackend, QuantilesWithinOneBinOfOpenMP) {
  auto p = rich_scenario(7);
  const uint64_t n = 200000;
  const Tally ref = run_tally(*openmp(), *p, n);
  const Tally got = run_tally(*gpu(), *p, n);
  EXPECT_EQ(got.trajectories, n);
  const RunSettings rs = run_settings_for(*p);
  EXPECT_EQ(compare_summaries(summarize(got, rs), summarize(ref, rs), p->dt, p->sub_bins), 0);
}

TEST_F(GpuBackend, BaselineQuantilesWithinOneBinOfOpenMP) {
  auto sc = load_scenario(std::string(CHIPCAST_SOURCE_DIR) + "/configs/baseline.toml");
  const uint64_t n = 200000;
  const Tally ref = run_tally(*openmp(), sc->params, n);
  const Tally got = run_tally(*gpu(), sc->params, n);
  EXPECT_EQ(compare_summaries(summarize(got, sc->run), summarize(ref, sc->run), sc->run.dt, sc->params.sub_bins), 0);
}

// The shared v2 scenario (every MODEL-v2.md section 1-5 key).
TEST_F(GpuBackend, V2AllKeysQuantilesWithinOneBinOfOpenMP) {
  auto sc = load_scenario(std::string(CHIPCAST_SOURCE_DIR) + "/tests/models/data/v2_all_keys.toml");
  const uint64_t n = 200000;
  const Tally ref = run_tally(*openmp(), sc->params, n);
  const Tally got = run_tally(*gpu(), sc->params, n);
  EXPECT_EQ(compare_summaries(summarize(got, sc->run), summarize(ref, sc->run), sc->run.dt, sc->params.sub_bins), 0);
}

// Same seed, different run batches and device launches: identical tallies.
TEST_F(GpuBackend, DeterministicAcrossBatchSizes) {
  auto p = rich_scenario(12);
  const uint64_t n = 60000;
  const Tally a = run_tally(*gpu(), *p, n);
  const Tally b = run_tally(*gpu(4097), *p, n, 9999);
  const Tally c = run_tally(*gpu(1000), *p, n, 33333);
  EXPECT_TRUE(a == b) << first_difference(a, b);
  EXPECT_TRUE(a == c) << first_difference(a, c);
}

// Levels that are +inf in both blocs give NaN ratios: counted, never binned,
// the same on the GPU as on the CPU (no rounding involved).
TEST_F(GpuBackend, NanRatiosAreAnomalies) {
  auto p = nan_ratio_scenario();
  const uint64_t n = 10000;
  const Tally ref = run_tally(*openmp(), *p, n);
  const Tally got = run_tally(*gpu(), *p, n);
  EXPECT_EQ(got.anomalies[kAnomalyNanRatio], n * (p->periods + p->years) * kNumMetrics);
  EXPECT_TRUE(got == ref) << first_difference(got, ref);
}

TEST_F(GpuBackend, SplitAcrossDevicesEqualsOneDevice) {
  const int count = gpu_device_count();
  if (count < 2) GTEST_SKIP() << "needs 2 devices, this process sees " << count;
  auto p = rich_scenario(13);
  const uint64_t n = 100001;
  std::vector<int> all(count);
  for (int d = 0; d < count; ++d) all[d] = d;
  const Tally one = run_tally(*gpu(0, {0}), *p, n);
  const Tally many = run_tally(*gpu(0, all), *p, n);
  EXPECT_TRUE(one == many) << first_difference(one, many);
  std::vector<float> a(3 * n), b(3 * n);
  gpu(0, {0})->crossing_times(*p, 5, n, a.data());
  gpu(0, all)->crossing_times(*p, 5, n, b.data());
  EXPECT_EQ(count_differing_trajectories(a, b, n, 0.0f), 0u);
}

TEST_F(GpuBackend, BadDeviceAndSettingsAreClearErrors) {
  const int count = gpu_device_count();
  try {
    gpu(0, {count});
    ADD_FAILURE() << "no error for device " << count;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gpu(0, {0, 0}), std::runtime_error);
}

}  // namespace
}  // namespace chipcast

#else

TEST(GpuBackend, NotBuilt) {
  GTEST_SKIP() << "GPU backend not built: configure with --preset cuda (nvcc) or --preset hip (hipcc)";
}

#endif
