// CC_ASSERT (kernels/macros.h): in a debug build an out-of-range index in a sink aborts with a message naming the
// condition; in release it compiles to nothing (skipped there).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/tally/sinks.h"

namespace chipcast {
namespace {

struct SmallTally {
  TallyShape shape{2, 4};
  std::vector<uint32_t> counts = std::vector<uint32_t>(HistView::block_entries(shape), 0);
  HistSink sink() { return HistSink{ViewCounters{HistView::of_block(counts.data(), shape)}}; }
};

#ifdef NDEBUG
constexpr bool kChecked = false;
#else
constexpr bool kChecked = true;
#endif

TEST(KernelAssertDeathTest, AnOutOfRangeCrossingBinAbortsWithTheCondition) {
  if (!kChecked) GTEST_SKIP() << "release build (NDEBUG): CC_ASSERT compiles to nothing; run the debug or asan preset";
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  SmallTally t;
  // One past the censored bin, the last valid one: would write into the anomaly counters.
  EXPECT_DEATH(t.sink().crossing(0, 0, t.shape.crossing_bins(), 0.0f),
               "sinks.h:[0-9]+: kernel precondition failed: bin >= 0 && bin < view.shape.crossing_bins\\(\\)");
  EXPECT_DEATH(t.sink().crossing(0, 0, -2, 0.0f), "kernel precondition failed");
  EXPECT_DEATH(t.sink().level(0, 0, 0, kLevelBins), "kernel precondition failed: bin >= 0 && bin < kLevelBins");
  EXPECT_DEATH(t.sink().level(t.shape.periods, 0, 0, 0), "hist_view.h:[0-9]+: kernel precondition failed");
  EXPECT_DEATH(t.sink().crossing(kNumMetrics, 0, 0, 0.0f), "kernel precondition failed: metric >= 0");
}

// The same sink with valid indices, the first and last of each range,
// counts where the layout says: the checks refuse only what would write
// outside the tally.
TEST(KernelAssert, ValidIndicesCountAndDoNotAbort) {
  SmallTally t;
  HistSink s = t.sink();
  s.crossing(2, 0, t.shape.censored_bin(), 1.0f);
  s.level(1, 8, 0, kLevelBins - 1);
  s.level(0, 0, 0, 0);
  const HistView v = HistView::of_block(t.counts.data(), t.shape);
  EXPECT_EQ(v.crossing_row(2)[t.shape.censored_bin()], 1u);
  EXPECT_EQ(v.level_row(1, 8)[kLevelBins - 1], 1u);
  EXPECT_EQ(v.level_row(0, 0)[0], 1u);
  s.crossing(0, 0, 0, 0.25f);
  EXPECT_EQ(v.crossing_row(0)[0], 1u);
}

}  // namespace
}  // namespace chipcast
