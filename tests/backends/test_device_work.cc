// The GPU backend's host-side scheduling, run on the CPU: the split of a trajectory range across devices
// (--devices 0,1,...) and the batch shrinking on out-of-memory. No GPU runtime is involved.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/cuda/device_work.h"

namespace chipcast::gpu {
namespace {

TEST(DeviceShare, SharesTileTheRangeAndDifferByAtMostOne) {
  for (size_t devices = 1; devices <= 7; ++devices)
    for (uint64_t count :
         {uint64_t{0}, uint64_t{1}, uint64_t{5}, uint64_t{6}, uint64_t{1000003}, (uint64_t{1} << 40) + 3}) {
      const uint64_t first = (uint64_t{1} << 33) + 17;
      uint64_t next = first, smallest = UINT64_MAX, largest = 0;
      for (size_t d = 0; d < devices; ++d) {
        const Share s = device_share(devices, d, first, count);
        EXPECT_EQ(s.first, next) << devices << " devices, device " << d << ", count " << count;
        next += s.count;
        smallest = std::min(smallest, s.count);
        largest = std::max(largest, s.count);
      }
      EXPECT_EQ(next, first + count) << devices << " devices, count " << count;
      EXPECT_LE(largest - smallest, 1u);
    }
}

TEST(SplitAcross, EveryTrajectoryRunsOnceOnItsDevice) {
  const size_t devices = 3;
  const uint64_t first = 100, count = 10;
  std::vector<std::atomic<int>> runs(count);
  std::mutex m;
  std::vector<size_t> seen;
  split_across(devices, first, count, [&](size_t d, uint64_t f, uint64_t n) {
    for (uint64_t i = f; i < f + n; ++i) ++runs[i - first];
    std::lock_guard<std::mutex> lock(m);
    seen.push_back(d);
  });
  for (uint64_t i = 0; i < count; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2}));
}

TEST(SplitAcross, DevicesWithoutWorkAreNotCalled) {
  std::atomic<int> calls{0};
  split_across(4, 0, 2, [&](size_t, uint64_t, uint64_t n) {
    EXPECT_GT(n, 0u);
    ++calls;
  });
  EXPECT_EQ(calls.load(), 2);
}

TEST(SplitAcross, AFailingDeviceIsReportedAfterTheOthersFinish) {
  std::atomic<int> finished{0};
  try {
    split_across(3, 0, 300, [&](size_t d, uint64_t, uint64_t) {
      if (d == 1) throw std::runtime_error("device 1: out of memory");
      ++finished;
    });
    FAIL() << "the failure was swallowed";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "device 1: out of memory");
  }
  EXPECT_EQ(finished.load(), 2);
}

// A stand-in for GpuError.
struct FakeError : std::runtime_error {
  bool oom;
  FakeError(bool o) : std::runtime_error(o ? "out of memory" : "kernel fault"), oom(o) {}
  bool out_of_memory() const { return oom; }
};

TEST(AllocateShrinking, HalvesUntilTheBuffersFit) {
  std::vector<int64_t> tried;
  int releases = 0;
  const int64_t cap = allocate_shrinking<FakeError>(
      1 << 20, 4096,
      [&](int64_t c) {
        tried.push_back(c);
        if (c > 100000) throw FakeError(true);
      },
      [&] { ++releases; });
  EXPECT_EQ(cap, 65536);
  EXPECT_EQ(tried, (std::vector<int64_t>{1 << 20, 1 << 19, 1 << 18, 1 << 17, 1 << 16}));
  EXPECT_EQ(releases, 4);
}

TEST(AllocateShrinking, GivesUpAtTheMinimumAndOnOtherErrors) {
  int releases = 0;
  auto none_fits = [](int64_t) { throw FakeError(true); };
  EXPECT_THROW(allocate_shrinking<FakeError>(1 << 14, 4096, none_fits, [&] { ++releases; }), FakeError);
  EXPECT_EQ(releases, 3);  // 16384, 8192, 4096

  std::vector<int64_t> tried;
  try {
    allocate_shrinking<FakeError>(
        1 << 20, 4096,
        [&](int64_t c) {
          tried.push_back(c);
          throw FakeError(false);
        },
        [] {});
    FAIL() << "a non-memory error was retried or swallowed";
  } catch (const FakeError& e) {
    EXPECT_FALSE(e.out_of_memory());
  }
  EXPECT_EQ(tried.size(), 1u);
}

}  // namespace
}  // namespace chipcast::gpu
