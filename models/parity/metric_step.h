// One metric of every lane in a period: its ratio, the level bins of its three series and crossing detection.
#pragma once
#include <math.h>

#include "kernels/macros.h"
#include "kernels/tally/tally_layout.h"
#include "models/parity/crossing_detection.h"
#include "models/parity/lane_state.h"
#include "models/parity/log_ratio.h"
#include "models/parity/params.h"
#include "models/parity/series_bins.h"

namespace chipcast::parity {

// Metric m of period k from both blocs' levels (bloc_step's log_metric):
// writes the bins of its ratio, domestic and foreign series (SeriesBins:
// negative bins for anomalies) and advances its crossing detection. One lane loop for all three,
// small enough for the host compiler to vectorise, then the crossing candidates of the lanes
// that start a run, if any does.
template <int L, bool Finite>
CC_FUNCTION void metric_lanes(int m, const CrossingRule& rule, const float (&log_metric)[kNumMetrics][kNumBlocs][L],
                              LaneState<L>& s, CrossingStart<L>& c) {
  CC_SIMD
  for (int l = 0; l < L; ++l) {
    const float ld = log_metric[m][kDomestic][l];
    const float lf = log_metric[m][kForeign][l];
    const LogRatio r = Finite ? LogRatio(ld, lf, LogRatio::FiniteLevels{}) : LogRatio(ld, lf);
    const SeriesBins bins = Finite ? SeriesBins(ld, lf, r, LogRatio::FiniteLevels{}) : SeriesBins(ld, lf, r);
    s.bin[m * kSeriesPerMetric + 0][l] = bins.ratio;
    s.bin[m * kSeriesPerMetric + 1][l] = bins.domestic;
    s.bin[m * kSeriesPerMetric + 2][l] = bins.foreign;
    crossing_run<L>(m, l, rule, r, s, c);
  }
}

template <int L>
CC_FUNCTION void metric_step(int m, int k, float dt, const CrossingRule& rule,
                             const float (&log_metric)[kNumMetrics][kNumBlocs][L], LaneState<L>& s) {
  // A block whose levels are all finite (finite_levels: almost every block;
  // an empty bloc's log 0 = -inf is not) takes the loop without the special
  // cases of LogRatio and SeriesBins, which give the same bins there.
  int32_t wild = 0;
  CC_SIMD
  for (int l = 0; l < L; ++l)
    wild |= finite_levels(log_metric[m][kDomestic][l], log_metric[m][kForeign][l]) ? 0 : 1;
  CrossingStart<L> c;
  if (wild)
    metric_lanes<L, false>(m, rule, log_metric, s, c);
  else
    metric_lanes<L, true>(m, rule, log_metric, s, c);
  int32_t any_start = 0;
  CC_SIMD
  for (int l = 0; l < L; ++l) any_start |= c.starts[l];
  if (!any_start) return;
  CC_SIMD
  for (int l = 0; l < L; ++l) crossing_candidate<L>(m, l, k, dt, rule, c, s);
}

}  // namespace chipcast::parity
