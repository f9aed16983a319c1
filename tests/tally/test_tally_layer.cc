// The tally layer's rules: shape sizes, the time grid's edges and bins, and the counting sinks' NaN and censored rules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "kernels/tally/sinks.h"
#include "kernels/tally/tally_shape.h"
#include "kernels/tally/time_grid.h"
#include "tally/batch_merge.h"
#include "tally/hot_levels.h"
#include "tally/partial_tally.h"
#include "tally/tally.h"

namespace chipcast {
namespace {

TEST(TallyShape, SizesAndOffsets) {
  const TallyShape s{3, 4};
  EXPECT_EQ(s.crossing_bins(), 3 * 4 + 1);
  EXPECT_EQ(s.censored_bin(), 12);
  EXPECT_EQ(s.level_entries(), int64_t{3} * 9 * kLevelBins);
  EXPECT_EQ(s.crossing_entries(), int64_t{3} * 13);
  // Row (k, series) starts after k*9 + series whole rows; the rows tile the array.
  EXPECT_EQ(s.level_offset(2, 8) + kLevelBins, s.level_entries());
  EXPECT_EQ(s.crossing_offset(2) + s.crossing_bins(), s.crossing_entries());
  EXPECT_TRUE(s.valid());
  EXPECT_FALSE((TallyShape{0, 4}).valid());
  EXPECT_NE(s, (TallyShape{3, 5}));
}

TEST(TallyShape, YearRowsFollowThePeriodRows) {
  const TallyShape s{8, 25, 2};
  EXPECT_EQ(s.level_rows(), 10);
  EXPECT_EQ(s.level_entries(), int64_t{10} * 9 * kLevelBins);
  EXPECT_EQ(s.annual_row(0), 8);
  EXPECT_EQ(s.level_offset(s.annual_row(1), 8) + kLevelBins, s.level_entries());
  EXPECT_EQ(s.crossing_entries(), (TallyShape{8, 25}).crossing_entries()) << "years add no crossing bins";
  EXPECT_NE(s, (TallyShape{8, 25}));
  EXPECT_TRUE(s.valid());
  EXPECT_FALSE((TallyShape{8, 25, 9}).valid()) << "more years than periods";
}

// MODEL-v2.md section 6: whole periods per year and a start on a year boundary.
TEST(TimeGrid, AnnualGridNeedsWholePeriodsPerYearAndAWholeStartYear) {
  const AnnualGrid q = annual_grid(2026.0, 0.25, 18);
  EXPECT_EQ(q.per_year, 4);
  EXPECT_EQ(q.years, 4) << "18 quarters: 4 whole years, the last half year is not tallied";
  EXPECT_EQ(annual_grid(2026.0, 1.0, 34).per_year, 1);
  EXPECT_EQ(annual_grid(2026.0, 1.0, 34).years, 34);
  EXPECT_EQ(annual_grid(2026.0, 0.1, 25).years, 2) << "1/0.1 is 10 within rounding";
  EXPECT_EQ(annual_grid(2026.0, 1.0 / 12, 24).per_year, 12);
  EXPECT_EQ(annual_grid(2026.0, 0.3, 10).per_year, 0) << "1/dt = 3.33...";
  EXPECT_EQ(annual_grid(2026.0, 2.0, 10).per_year, 0) << "1/dt = 0.5";
  EXPECT_EQ(annual_grid(2026.5, 0.25, 16).per_year, 0) << "mid-year start";
  EXPECT_EQ(annual_grid(2026.0, 0.25, 3).years, 0) << "less than a year";
  EXPECT_EQ(annual_grid(2026.0, NAN, 10).per_year, 0);
  EXPECT_EQ(annual_grid(NAN, 0.25, 10).per_year, 0);
}

// Every float->int conversion of the bin functions is of a clamped value: a
// NaN or infinite input gives a bin in range (and no UBSan report).
TEST(LevelBin, NanAndInfiniteInputsGiveBinsInRange) {
  EXPECT_EQ(level_bin(NAN, false, false), kBinUnder);
  EXPECT_EQ(level_bin(INFINITY, false, false), kBinOver);
  EXPECT_EQ(level_bin(-INFINITY, false, false), kBinUnder);
  EXPECT_EQ(level_bin(1e38f, false, false), kBinOver);
  EXPECT_EQ(level_bin(-1e38f, false, false), kBinUnder);
  EXPECT_EQ(level_bin(0.0f, false, false), kBinFirstRegular + 12 * kBinsPerDecade);  // 10^0
  const TimeGrid g{2026.0, 0.25, 4, 25};
  EXPECT_EQ(g.bin_of(NAN), 0);
  EXPECT_EQ(g.bin_of(1e30f), g.time_bins() - 1);
  EXPECT_EQ(g.bin_of(INFINITY), g.time_bins() - 1);
  EXPECT_EQ(sub_bins_for(NAN), 1);
  EXPECT_EQ(sub_bins_for(1e300), 1000000000);
  EXPECT_EQ(anomaly_of_bin(kNanRatioBin), kAnomalyNanRatio);
  EXPECT_EQ(anomaly_of_bin(kNanLevelBin), kAnomalyNanLevel);
  EXPECT_EQ(anomaly_of_bin(kLostPrecisionBin), kAnomalyLostPrecision);
  EXPECT_EQ(anomaly_of_bin(kUncountedBin), -1);
}

TEST(TimeGrid, PeriodEndsAndBinEdges) {
  const TimeGrid g{2026.0, 0.25, 8, 25};
  EXPECT_EQ(g.period_end(0), 2026.25);
  EXPECT_EQ(g.period_start(0), 2026.0);
  EXPECT_EQ(g.horizon(), 2028.0);
  EXPECT_EQ(g.time_bins(), 200);
  EXPECT_EQ(g.shape(), (TallyShape{8, 25}));
  // The last bin of each period closes exactly at the period end.
  for (int k = 0; k < g.periods; ++k) EXPECT_EQ(g.bin_upper_edge(k * 25 + 24), g.period_end(k)) << k;
  EXPECT_NEAR(g.bin_upper_edge(25 + 7), 2026.25 + 8 * 0.01, 1e-12);
  EXPECT_EQ(sub_bins_for(0.25), 25);
  EXPECT_EQ(sub_bins_for(0.1), 10);
  EXPECT_EQ(sub_bins_for(0.001), 1);
  const TimeGrid fine = g.refined(10);
  EXPECT_EQ(fine.sub_bins, 250);
  EXPECT_EQ(fine.periods, 8);
  EXPECT_DOUBLE_EQ(fine.bin_width(), 0.001);
}

TEST(TimeGrid, BinOfATime) {
  const TimeGrid g{2026.0, 0.25, 4, 25};      // bins of 0.01 year
  EXPECT_EQ(g.bin_of(-1.0f), g.time_bins());  // censored
  EXPECT_EQ(g.bin_of(kCensoredTime), g.time_bins());
  EXPECT_EQ(g.bin_of(0.0f), 0);
  EXPECT_EQ(g.bin_of(0.005f), 0);  // (0, 0.01]
  EXPECT_EQ(g.bin_of(0.015f), 1);
  // A period end belongs to the bin it closes, though 0.25f/0.01 rounds either way.
  EXPECT_EQ(g.bin_of(0.25f), 24);
  EXPECT_EQ(g.bin_of(0.75f), 74);
  EXPECT_EQ(g.bin_of(1.0f), 99);
  EXPECT_EQ(g.bin_of(5.0f), 99);  // past the horizon: clamped into the last time bin
  // Every period end (exact in float here) falls in the bin that closes its period.
  for (int k = 0; k < g.periods; ++k)
    EXPECT_EQ(g.bin_of(static_cast<float>(g.period_end(k) - g.start_year)), k * g.sub_bins + g.sub_bins - 1) << k;
}

// One trajectory's results handed to a sink as the kernels do: a NaN ratio
// and a real level in period 0, one of each other anomaly kind and a ratio
// left uncounted in period 2, a crossing of metric 0, metric 1 censored, and
// (when the shape has years) a level in year 0's row.
template <class Sink>
void feed(Sink& sink, const TallyShape& s) {
  sink.level(0, 0, 0, kNanRatioBin);
  sink.level(0, 1, 0, kBinFirstRegular + 5);
  sink.level(1, 1, 0, kBinOver);
  sink.level(2, 3, 0, kUncountedBin);
  sink.level(2, 4, 0, kNanLevelBin);
  sink.level(2, 6, 0, kLostPrecisionBin);
  if (s.years > 0) sink.level(s.annual_row(0), 2, 0, kBinFirstRegular + 7);
  sink.crossing(0, 0, 2 * s.sub_bins - 1, 0.5f);
  sink.censored(1, 0);
}

void expect_counted(const HistView& v, const TallyShape& s) {
  EXPECT_EQ(v.anomalies[kAnomalyNanRatio], 1u) << "a NaN ratio is an anomaly";
  EXPECT_EQ(v.anomalies[kAnomalyNanLevel], 1u) << "a NaN level is its own kind";
  EXPECT_EQ(v.anomalies[kAnomalyLostPrecision], 1u) << "lost precision is its own kind";
  uint64_t ratio_row = 0;
  for (int b = 0; b < kLevelBins; ++b) ratio_row += v.level_row(0, 0)[b];
  EXPECT_EQ(ratio_row, 0u) << "a NaN ratio is never binned";
  uint64_t period2 = 0;
  for (int q = 0; q < kNumSeries; ++q)
    for (int b = 0; b < kLevelBins; ++b) period2 += v.level_row(2, q)[b];
  EXPECT_EQ(period2, 0u) << "no anomaly is binned";
  if (s.years > 0) {
    EXPECT_EQ(v.level_row(s.annual_row(0), 2)[kBinFirstRegular + 7], 1u) << "year rows follow the period rows";
    EXPECT_EQ(v.level + s.level_offset(s.annual_row(0), 2), v.level + (3 * kNumSeries + 2) * kLevelBins);
  }
  EXPECT_EQ(v.level_row(0, 1)[kBinFirstRegular + 5], 1u);
  EXPECT_EQ(v.level_row(1, 1)[kBinOver], 1u);
  EXPECT_EQ(v.crossing_row(0)[2 * s.sub_bins - 1], 1u);
  EXPECT_EQ(v.crossing_row(1)[s.crossing_bins() - 1], 1u) << "censored is the last crossing bin";
  uint64_t all = 0;
  for (int64_t i = 0; i < s.crossing_entries(); ++i) all += v.crossing[i];
  EXPECT_EQ(all, 2u);
}

TEST(Sinks, HistSinkCountsNanAsAnomalyAndCensoredInTheLastBin) {
  const TallyShape s{3, 4, 1};
  PartialTally p(s);
  HistSink sink{ViewCounters{p.view()}};
  feed(sink, s);
  expect_counted(p.view(), s);
}

TEST(Sinks, HotSinkCountsTheSameOnceFlushed) {
  const TallyShape s{3, 4, 1};
  PartialTally p(s);
  HotLevels hot(s);
  HotSink sink = hot.sink(p.view());
  hot.before_chunk(1, p.view().level);
  feed(sink, s);
  EXPECT_EQ(p.view().level_row(0, 1)[kBinFirstRegular + 5], 0u) << "levels wait in the 16-bit counters";
  hot.flush(p.view().level);
  expect_counted(p.view(), s);
  EXPECT_EQ(hot.counts()[s.level_offset(0, 1) + kBinFirstRegular + 5], 0u) << "a flush zeroes the counters";
}

// The CPU backends' end of batch: every worker's 16-bit and 32-bit counts
// merged slice by slice must give what Tally::add of each worker's flushed
// partial gives (the independent oracle here), for any slice count, and leave
// every worker's counts zero for the next batch.
TEST(BatchMerge, SlicesGiveTheSameTallyAsAddingEachWorkerAndLeaveZeros) {
  const TallyShape s{5, 4, 2};  // 7 level rows: 7 * 9 * kLevelBins entries, several 4096-entry runs
  constexpr int kWorkers = 3;
  for (int slices : {1, 2, 3, 7, 64}) {
    std::vector<std::unique_ptr<PartialTally>> partials, oracle;
    std::vector<HotLevels> hot(kWorkers, HotLevels(s));
    std::vector<WorkerCounts> workers;
    for (int w = 0; w < kWorkers; ++w) {
      partials.push_back(std::make_unique<PartialTally>(s));
      oracle.push_back(std::make_unique<PartialTally>(s));
      workers.push_back(WorkerCounts{partials[w].get(), &hot[w]});
    }
    Tally merged(s), want(s);
    for (int batch = 0; batch < 2; ++batch) {
      for (int w = 0; w < kWorkers; ++w) {
        HotSink sink = hot[w].sink(partials[w]->view());
        HistSink plain{ViewCounters{oracle[w]->view()}};
        hot[w].before_chunk(100, partials[w]->view().level);
        // Counts in every row and in the last entry, some through a flush (32-bit), some left in 16 bits.
        for (int i = 0; i < 50 + 10 * w + batch; ++i) {
          const int k = (i * 7 + w) % s.level_rows(), q = (i + batch) % kNumSeries;
          const int bin = i == 0 ? kLevelBins - 1 : (i * 37 + w) % kLevelBins;
          sink.level(k, q, 0, bin);
          plain.level(k, q, 0, bin);
          if (i == 20) hot[w].flush(partials[w]->view().level);
        }
        sink.level(s.level_rows() - 1, kNumSeries - 1, 0, kLevelBins - 1);
        plain.level(s.level_rows() - 1, kNumSeries - 1, 0, kLevelBins - 1);
        // Every entry on either side of a 4096-entry run's edge (where slices are cut).
        for (int64_t e = 4095; e < s.level_entries(); e += 4096) {
          for (int64_t j : {e, e + 1}) {
            if (j >= s.level_entries()) continue;
            if (w % 2)
              ++partials[w]->view().level[j];
            else
              ++hot[w].counts()[j];
            ++oracle[w]->view().level[j];
          }
        }
        sink.crossing(1, 0, 3 + w, 1.0f);
        plain.crossing(1, 0, 3 + w, 1.0f);
        sink.level(0, 0, 0, kNanRatioBin);
        plain.level(0, 0, 0, kNanRatioBin);
      }
      check_mergeable(workers.data(), kWorkers, merged);
      for (int slice = 0; slice < slices; ++slice) merge_level_slice(slice, slices, workers.data(), kWorkers, merged);
      merge_rest(workers.data(), kWorkers, 10, merged);
      for (int w = 0; w < kWorkers; ++w) {
        want.add(oracle[w]->view(), w == 0 ? 10 : 0);
        oracle[w]->clear();
      }
      EXPECT_TRUE(merged == want) << slices << " slices, batch " << batch;
      for (int w = 0; w < kWorkers; ++w) {
        const HistView v = partials[w]->view();
        for (int64_t i = 0; i < HistView::block_entries(s); ++i) ASSERT_EQ(v.level[i], 0u) << "32-bit entry " << i;
        for (size_t i = 0; i < hot[w].entries(); ++i) ASSERT_EQ(hot[w].counts()[i], 0) << "16-bit entry " << i;
      }
    }
  }
  Tally other(TallyShape{4, 4, 2});
  PartialTally p(s);
  HotLevels h(s);
  const WorkerCounts w{&p, &h};
  EXPECT_THROW(check_mergeable(&w, 1, other), std::invalid_argument);
}

TEST(Sinks, CrossingTimeSinkMarksCensored) {
  std::vector<float> t(3 * 2, 0.0f);
  CrossingTimeSink sink{t.data(), 2};
  feed(sink, TallyShape{3, 4});
  EXPECT_EQ(t[0], 0.5f);
  EXPECT_EQ(t[2], kCensoredTime);
  EXPECT_EQ(t[1], 0.0f);  // lane 1 untouched
}

TEST(Tally, AddAndMergeKeepShapeAndCounts) {
  const TallyShape s{2, 3};
  PartialTally p(s);
  HistSink sink{ViewCounters{p.view()}};
  for (int m = 0; m < kNumMetrics; ++m) sink.censored(m, 0);
  Tally a(s), b(s);
  a.add(p.view(), 1);
  EXPECT_EQ(a.inconsistency(), "");
  b.merge(a);
  b.merge(a);
  EXPECT_EQ(b.trajectories, 2u);
  EXPECT_EQ(b.crossing_row(2)[s.censored_bin()], 2u);
  EXPECT_EQ(b.inconsistency(), "");
  Tally other(TallyShape{2, 4});
  EXPECT_THROW(b.merge(other), std::invalid_argument);
  EXPECT_THROW(other.add(p.view(), 1), std::invalid_argument);
  p.clear();
  EXPECT_EQ(p.view().crossing_row(0)[s.censored_bin()], 0u);
}

}  // namespace
}  // namespace chipcast
