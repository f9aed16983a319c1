// The sinks the kernels hand their per-period results to: one counting rule set, several kinds of counters.
#pragma once
#include <stdint.h>

#include "kernels/macros.h"
#include "kernels/tally/hist_view.h"
#include "kernels/tally/tally_layout.h"

namespace chipcast {

// A sink receives, for lane i of a block (models/parity/trajectory.h):
//   level(k, series, i, bin)      bin < 0 for an anomaly (tally_layout.h); k may be an annual row
//   crossing(metric, i, bin, t)   the crossing's bin and time (years since start)
//   censored(metric, i)           after the last period, if it never crossed

// The counting rules, written once for every sink that counts into
// histograms: a negative bin is one count of its anomaly (anomaly_of_bin:
// NaN ratio, NaN level, lost precision; none for kUncountedBin) and no level
// count; a trajectory that never crossed counts in its metric's last
// crossing bin (TallyShape::censored_bin). `Counters` only says where a count
// goes and how it is added (plain or atomic):
//   add_level(k, series, bin), add_anomaly(a), add_crossing(metric, bin), shape()
template <class Counters>
struct CountSink {
  Counters counters;

  CC_FUNCTION void level(int k, int series, int64_t, int bin) {
    if (bin < 0) {
      const int a = anomaly_of_bin(bin);
      if (a >= 0) counters.add_anomaly(a);
      return;
    }
    counters.add_level(k, series, bin);
  }
  CC_FUNCTION void crossing(int metric, int64_t, int bin, float) { counters.add_crossing(metric, bin); }
  CC_FUNCTION void censored(int metric, int64_t) { counters.add_crossing(metric, counters.shape().censored_bin()); }
};

// One thread's private 32-bit histograms: plain increments.
struct ViewCounters {
  HistView view;
  CC_FUNCTION void add_level(int k, int series, int bin) {
    CC_ASSERT(bin >= 0 && bin < kLevelBins);
    ++view.level_row(k, series)[bin];
  }
  CC_FUNCTION void add_anomaly(int a) {
    CC_ASSERT(a >= 0 && a < kNumAnomalies);
    ++view.anomalies[a];
  }
  CC_FUNCTION void add_crossing(int metric, int bin) {
    CC_ASSERT(bin >= 0 && bin < view.shape.crossing_bins());
    ++view.crossing_row(metric)[bin];
  }
  CC_FUNCTION TallyShape shape() const { return view.shape; }
};
using HistSink = CountSink<ViewCounters>;

// As ViewCounters, but level counts go into 16-bit counters laid out like
// view.level (a HotLevels buffer, tally/hot_levels.h, flushes them into
// view.level before any could overflow); crossings and anomalies go straight
// into the view.
struct HotCounters : ViewCounters {
  uint16_t* level16 = nullptr;
  // Hides ViewCounters::add_level (CountSink is a template on its counters, no virtuals).
  CC_FUNCTION void add_level(int k, int series, int bin) {
    CC_ASSERT(bin >= 0 && bin < kLevelBins && k >= 0 && k < view.shape.level_rows() && series >= 0 &&
              series < kNumSeries);
    ++level16[view.shape.level_offset(k, series) + bin];
  }
};
using HotSink = CountSink<HotCounters>;

// Keeps each lane's crossing time (years since start, kCensoredTime if
// censored) for cross-backend comparisons; levels are ignored.
struct CrossingTimeSink {
  float* times = nullptr;  // [metric][count], by batch-local trajectory index
  int64_t count = 0;
  CC_FUNCTION void level(int, int, int64_t, int) {}
  CC_FUNCTION void crossing(int metric, int64_t i, int, float t) {
    CC_ASSERT(metric >= 0 && metric < kNumMetrics && i >= 0 && i < count);
    times[metric * count + i] = t;
  }
  CC_FUNCTION void censored(int metric, int64_t i) {
    CC_ASSERT(metric >= 0 && metric < kNumMetrics && i >= 0 && i < count);
    times[metric * count + i] = kCensoredTime;
  }
};

}  // namespace chipcast
